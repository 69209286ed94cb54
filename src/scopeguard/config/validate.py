"""Check the parsed `[tool.scopeguard]` table strictly and turn it into a Config: every unknown
key, wrong type or dangling name is a located ConfigError with, when one is near, the spelling that
was probably meant (the hints below)."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from scopeguard.base.model import TYPE_CHECKING, Config, DynamicImportDeclaration, ParseLimits, Registries, Reporting, Scope, Toggle

from .errors import ConfigError, ConfigErrors
from .locate import _dotted, _json, _key_part, _Locator
from .schema import (
    _CODE,
    _CUTOFF,
    _REGISTRY_NAME,
    FAIL_ON,
    REGISTRY_KEYS,
    DYNAMIC_IMPORT_KEYS,
    SCOPE_KEYS,
    TOGGLE_KEYS,
    TOGGLE_OPTIONS,
    TOP_KEYS,
    LIMIT_KEYS,
    LIMIT_MAX,
    KeyPath,
)

# No path pattern needs more; a longer one only makes matching cost more.
MAX_GLOB = 1024

_FROM = {"timeout": "timeout_from", "memory_mb": "memory_from", "max_file_mb": "max_file_from"}


class _Checker:
    """Turns the parsed table into a Config, failing with located errors."""

    def __init__(self, path: str, root: str, text: str) -> None:
        self.path = path
        self.root = root
        self.locator = _Locator(text)

    def fail(
        self,
        parts: KeyPath,
        problem: str,
        hint: str = "",
        *,
        value: str | None = None,
        line: int | None = None,
    ) -> NoReturn:
        if line is None:
            line = self.locator.line_of(parts, value)
        raise ConfigError(self.path, line, _dotted(parts), problem, hint)

    def config(
        self,
        table: Mapping[str, Any],
        source_roots: Sequence[str] | None,
        extra_roots: Sequence[str] | None,
        exclude: Sequence[str] | None,
        ceilings: ParseLimits | None = None,
    ) -> Config:
        errors: list[ConfigError] = []
        ceilings = ceilings or ParseLimits()

        def attempt(check, default=None):
            """One independent part of the table: its first error is kept, the others still run."""
            try:
                return check()
            except ConfigError as error:
                errors.append(error)
                return default

        for key in table:
            attempt(lambda key=key: self.known_keys((), {key: None}, TOP_KEYS))
        default_source = "src" if os.path.isdir(os.path.join(self.root, "src")) else "."

        def source_list():
            found = self.roots("source_roots", table, source_roots, (default_source,))
            if not found:
                self.fail(("source_roots",), "needs at least one folder", f"the default is [{default_source!r}]")
            return found

        sources = attempt(source_list, (default_source,))
        extras = attempt(lambda: self.roots("extra_roots", table, extra_roots, ()), ())

        def exclude_patterns():
            patterns = self.strings(("exclude",), table["exclude"]) if "exclude" in table else ()
            if exclude is not None:
                patterns = self.cli_strings("exclude", exclude)
            self.patterns(patterns, from_cli=exclude is not None)
            return patterns

        patterns = attempt(exclude_patterns, ())
        raw_toggles = table.get("toggles", {})
        toggles = attempt(lambda: self.toggles(raw_toggles), None)
        names = {t.name for t in toggles} if toggles is not None else set(raw_toggles if isinstance(raw_toggles, dict) else ())
        scopes = attempt(lambda: self.scopes(table.get("scopes", []), names), ())
        registries = attempt(lambda: self.registries(table.get("registries", {})), Registries())
        limits = attempt(lambda: self.limits(table, ceilings), ceilings)
        declared = attempt(lambda: self.dynamic_imports(table.get("dynamic_imports", [])), ())
        reporting = self.reporting(table, attempt)
        if errors:
            raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
        return Config(
            root=self.root,
            config_path=self.path,
            source_roots=sources,
            extra_roots=extras,
            exclude=patterns,
            toggles=toggles or (),
            scopes=scopes,
            registries=registries,
            limits=limits,
            reporting=reporting,
            ceilings=ceilings,
            dynamic_imports=declared,
        )

    # -- reporting (select, ignore, per_file_ignores, require_reason, fail_on) --

    def codes(self, parts: KeyPath, value: Any) -> tuple[str, ...]:
        codes = self.strings(parts, value)
        for index, code in enumerate(codes):
            if not _CODE.fullmatch(code.upper()):
                self.fail((*parts, index), f"{code!r} is not a rule code or prefix",
                          "write codes such as 'SG201' or prefixes such as 'SG2'", value=code)
        return tuple(code.upper() for code in codes)

    def reporting(self, table: Mapping[str, Any], attempt) -> Reporting:
        """Each key checked on its own (`attempt` keeps its error), so that all are reported."""
        select = attempt(lambda: self.codes(("select",), table["select"]), ()) if "select" in table else ()
        ignore = attempt(lambda: self.codes(("ignore",), table["ignore"]), ()) if "ignore" in table else ()

        def per_file_ignores():
            per_file = table.get("per_file_ignores", {})
            if not isinstance(per_file, dict):
                self.fail(("per_file_ignores",), f"expected a table, got {_kind(per_file)}",
                          'write it as a table of globs to codes: per_file_ignores = { "tests/**" = ["SG201"] }')
            self.patterns([glob for glob in per_file], from_cli=False, key="per_file_ignores", gitignore=False)
            return tuple((glob, self.codes(("per_file_ignores", glob), codes)) for glob, codes in per_file.items())

        def require_reason():
            value = table.get("require_reason", False)
            if not isinstance(value, bool):
                self.fail(("require_reason",), f"expected true or false, got {_kind(value)}")
            return value

        def fail_on():
            value = table.get("fail_on", "warning")
            if value not in FAIL_ON:
                self.fail(("fail_on",), f"expected one of {', '.join(FAIL_ON)}, got {value!r}",
                          "the default is 'warning': errors and warnings fail the run")
            return value

        return Reporting(select, ignore, attempt(per_file_ignores, ()), attempt(require_reason, False),
                         attempt(fail_on, "warning"))

    # -- parse limits --

    def limits(self, table: Mapping[str, Any], ceilings: ParseLimits = ParseLimits()) -> ParseLimits:
        """What parsing one file may cost: seconds, MB of memory per worker, MB of source.

        The table belongs to the analysed tree, which may be hostile: it may only lower the user's
        `ceilings` (command line, environment, built-in defaults), never raise them. A value above
        the ceiling is capped to it; a value below is kept, and remembered as set here, so that a
        file it makes unanalysable says so (SG001)."""
        values: dict[str, Any] = {}
        for key, field, low, unit in LIMIT_KEYS:
            ceiling = getattr(ceilings, field)
            values[field] = ceiling
            values[_FROM[field]] = getattr(ceilings, _FROM[field])
            if key not in table:
                continue
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    field != "timeout" and not isinstance(value, int)):
                kind = "a number" if field == "timeout" else "a whole number"
                self.fail((key,), f"expected {kind} of {unit}, got {_kind(value)}", f"the default is {getattr(ParseLimits(), field)}")
            if not low <= value <= LIMIT_MAX:  # also false for NaN
                shown = f"{value:.3g}" if isinstance(value, float) else (str(value) if value.bit_length() < 64 else "a huge number")
                self.fail((key,), f"{shown} is out of range", f"give {low} to {LIMIT_MAX} {unit}; the default is "
                                                              f"{getattr(ParseLimits(), field)}")
            if value < ceiling:
                line = self.locator.line_of((key,))
                where = f"{os.path.basename(self.path)}:{line}" if line else os.path.basename(self.path)
                values[field] = value
                values[_FROM[field]] = f"{key} = {value:g} in {where}"
        return ParseLimits(**values)

    # -- dynamic imports the project declares --

    def dynamic_imports(self, value: Any) -> tuple[DynamicImportDeclaration, ...]:
        """`[[tool.scopeguard.dynamic_imports]]`: path, function, call, loads and a required reason."""
        if not isinstance(value, list):
            self.fail(("dynamic_imports",), f"expected an array of tables, got {_kind(value)}",
                      "write each as [[tool.scopeguard.dynamic_imports]]")
        found = []
        for index, item in enumerate(value):
            parts = ("dynamic_imports", index)
            if not isinstance(item, dict):
                self.fail(parts, f"expected a table, got {_kind(item)}", "write it as [[tool.scopeguard.dynamic_imports]]")
            self.known_keys(parts, item, DYNAMIC_IMPORT_KEYS)
            texts = {}
            for key in ("path", "function", "call", "reason"):
                text = item.get(key, "")
                if not isinstance(text, str):
                    self.fail((*parts, key), f"expected a string, got {_kind(text)}", "put it in quotes")
                texts[key] = text.strip()
            for key, hint in (("path", "the file of the call, relative to the project root"),
                              ("call", "the call as `scopeguard delete-plan` shows it, e.g. 'importlib.import_module(name)'"),
                              ("reason", "say why these are all it can load: a reviewer reads it")):
                if not texts[key]:
                    self.fail((*parts, key), f"{key!r} is required", hint)
            if "loads" not in item:
                self.fail((*parts, "loads"), "'loads' is required",
                          'list the modules or prefixes it can load: loads = ["pkg.a", "pkg.b.*"] ([] for none)')
            loads = self.strings((*parts, "loads"), item["loads"])
            for at, load in enumerate(loads):
                if not _REGISTRY_NAME.fullmatch(load.removesuffix(".*")) or load.endswith("."):
                    self.fail((*parts, "loads", at), f"{load!r} is not a module name or prefix",
                              "write 'pkg.mod' for a module, 'pkg.sub.*' for any module under pkg.sub", value=load)
            path = texts["path"].replace("\\", "/")
            while path.startswith("./"):
                path = path[2:]
            found.append(DynamicImportDeclaration(path, texts["function"], texts["call"], tuple(loads),
                                                  texts["reason"], index, self.locator.line_of((*parts, "call"))))
        return tuple(found)

    # -- registries --

    def registries(self, value: Any) -> Registries:
        """Registry functions; a key given replaces that key's TVM default, the others stay."""
        if not isinstance(value, dict):
            self.fail(("registries",), f"expected a table, got {_kind(value)}",
                      "write it as a [tool.scopeguard.registries] table")
        self.known_keys(("registries",), value, REGISTRY_KEYS)
        chosen = {}
        for key in REGISTRY_KEYS:
            if key in value:
                names = self.strings(("registries", key), value[key])
                for index, name in enumerate(names):
                    if not _REGISTRY_NAME.fullmatch(name) or name.endswith("."):
                        self.fail(("registries", key, index), f"{name!r} is not a function name",
                                  "write a name such as 'get_global_func' or 'tvm.get_global_func'", value=name)
                chosen[key] = names
        registries = Registries(**chosen)
        seen: dict[str, str] = {}
        for key in REGISTRY_KEYS:
            for index, name in enumerate(getattr(registries, key)):
                last = name.rsplit(".", 1)[-1]
                if seen.get(last, key) != key:
                    self.fail(("registries", key, index), f"{last!r} is both a {seen[last]} and a {key} function",
                              "a function either registers, looks up or binds names: list it once", value=name)
                seen[last] = key
        return registries

    # -- generic shapes --

    def known_keys(self, parts: KeyPath, table: Mapping[str, Any], allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                match = _close_matches(key, allowed, n=1, cutoff=_CUTOFF)
                hint = f"did you mean {match[0]!r}?" if match else f"expected one of: {', '.join(allowed)}"
                self.fail((*parts, key), f"unknown key {key!r}", hint)

    def strings(self, parts: KeyPath, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            example = f"[{_json().dumps(value)}]" if isinstance(value, str) else '["..."]'
            self.fail(parts, f"expected a list of strings, got {_kind(value)}", f"write a list: {example}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.fail((*parts, index), f"expected a string, got {_kind(item)}", "put every entry in quotes")
            if not item.strip():
                self.fail((*parts, index), "empty string", "remove the empty entry", value=item)
        return tuple(value)

    def cli_strings(self, name: str, values: Sequence[str]) -> tuple[str, ...]:
        # A bare str would be split into characters; that is a caller's bug, not a user's.
        if isinstance(values, str) or not all(isinstance(v, str) for v in values):
            raise TypeError(f"the {name} override must be a sequence of strings, got {values!r}")
        for index, item in enumerate(values):
            if not item.strip():
                self.fail((name, index), "empty string (given on the command line)", line=0)
        return tuple(values)

    def roots(
        self, name: str, table: Mapping[str, Any], override: Sequence[str] | None, default: tuple[str, ...]
    ) -> tuple[str, ...]:
        # The file's value is checked even when overridden: the file must stay valid on its own.
        values = self.strings((name,), table[name]) if name in table else default
        from_cli = override is not None
        if override is not None:
            values = self.cli_strings(name, override)
        for index, folder in enumerate(values):
            if not os.path.isdir(os.path.join(self.root, folder)):
                exists = os.path.exists(os.path.join(self.root, folder))
                what = "is not a folder" if exists else "does not exist"
                problem = f"{folder!r} {what}" + (" (given on the command line)" if from_cli else "")
                self.fail(
                    (name, index),
                    problem,
                    _path_hint(self.root, folder, folders_only=True),
                    value=folder,
                    line=0 if from_cli else None,
                )
            self.inside_project((name, index), folder, from_cli=from_cli)
        return values

    def patterns(self, patterns: Sequence[str], *, from_cli: bool, key: str = "exclude", gitignore: bool = True) -> None:
        """Each exclude pattern (or per_file_ignores glob) must be one git accepts, that can match
        something, and that the linear matcher (base.globs) runs; it is bounded in length."""
        if not patterns:
            return
        from ..base.globs import linear_spec

        for index, pattern in enumerate(patterns):
            problem = ""
            where: KeyPath = (key, index) if key == "exclude" else (key, pattern)
            if len(pattern) > MAX_GLOB:
                problem, hint = f"longer than {MAX_GLOB} characters", "a path pattern is short; shorten it"
            elif pattern.startswith("#"):
                problem, hint = "a pattern starting with '#' is a comment in gitignore", f"write \\{pattern}"
            elif "\0" in pattern or "\n" in pattern or "\r" in pattern:
                problem, hint = "a pattern cannot hold a NUL or a line break", "remove it"
            else:
                try:
                    linear_spec([pattern], gitignore=gitignore)
                except (ValueError, TypeError, re.error) as err:
                    problem, hint = f"not a gitignore pattern ({err})", "a trailing backslash or a lone '!' is not allowed"
            if problem:
                shown = repr(pattern) if len(pattern) <= 80 else repr(pattern[:80]) + "..."
                self.fail(where, f"{shown}: {problem}" + (" (given on the command line)" if from_cli else ""),
                          hint, value=pattern, line=0 if from_cli else None)

    def inside_project(self, parts: KeyPath, relative: str, *, from_cli: bool = False) -> None:
        """A configured path must stay inside the project, as written and once symlinks are resolved:
        `../..` or a link to `/` would let the tree make scopeguard walk, copy or delete elsewhere."""
        root = os.path.realpath(self.root)
        lexical = os.path.normpath(os.path.join(self.root, relative))
        resolved = os.path.realpath(lexical)
        if not (_is_within(lexical, os.path.normpath(self.root)) and _is_within(resolved, root)):
            where = "" if resolved == lexical else f" (it resolves to {resolved})"
            self.fail(parts, f"{relative!r} is outside the project{where}"
                             + (" (given on the command line)" if from_cli else ""),
                      f"name a path inside the project root {self.root}", value=relative,
                      line=0 if from_cli else None)

    # -- toggles --

    def toggles(self, value: Any) -> tuple[Toggle, ...]:
        if not isinstance(value, dict):
            self.fail(("toggles",), f"expected a table of tables, got {_kind(value)}",
                      "write one [tool.scopeguard.toggles.NAME] table per toggle")
        toggles = []
        owners: dict[str, str] = {}  # spelling -> the toggle that listed it first
        for name, body in value.items():
            parts: KeyPath = ("toggles", name)
            if not name.strip():
                self.fail(parts, "empty toggle name", "name it, e.g. [tool.scopeguard.toggles.msc]")
            if name == TYPE_CHECKING:
                # Guards record typing.TYPE_CHECKING under this name; a user toggle would clash.
                self.fail(parts, f"the toggle name {TYPE_CHECKING!r} is reserved", "pick another name")
            if not isinstance(body, dict):
                self.fail(parts, f"expected a table, got {_kind(body)}",
                          f"write it as [tool.scopeguard.toggles.{_key_part(name)}]")
            self.known_keys(parts, body, TOGGLE_KEYS + TOGGLE_OPTIONS)
            spellings = {key: self.strings((*parts, key), body.get(key, [])) for key in TOGGLE_KEYS}
            for key, values in spellings.items():
                for index, spelling in enumerate(values):
                    self.nfkc((*parts, key, index), spelling)
            if not any(spellings.values()):
                self.fail(parts, f"toggle {name!r} defines no spelling",
                          "add on_when_true, on_when_false or decorators")
            both = sorted({s.removesuffix("()") for s in spellings["on_when_true"]}
                          & {s.removesuffix("()") for s in spellings["on_when_false"]})
            if both:
                self.fail((*parts, "on_when_false"),
                          f"{both[0]!r} is in both on_when_true and on_when_false",
                          "a spelling means 'on' in one polarity only", value=both[0])
            for key in ("on_when_true", "on_when_false"):
                for spelling in spellings[key]:
                    bare = spelling[:-2] if spelling.endswith("()") else spelling
                    if ("(" in bare or ")" in bare) or (spelling.endswith("()") and not all(
                            part.isidentifier() for part in bare.split("."))):
                        self.fail((*parts, key), f"{spelling!r} is not a toggle spelling",
                                  "write a name (`USE_FEAT`), an attribute (`config.USE_FEAT`), a key, or a "
                                  "predicate with a trailing `()` (`is_feat_available()`: only a call reads it)",
                                  value=spelling)
                    spelling = bare  # `is_feat()` and `is_feat` are one spelling (the kind differs)
                    if spelling.rsplit(".", 1)[-1] == TYPE_CHECKING:
                        self.fail((*parts, key), f"{spelling!r} is typing.TYPE_CHECKING, not a feature toggle",
                                  "remove it: scopeguard already treats `if TYPE_CHECKING:` as type-only code",
                                  value=spelling)
                    if spelling in owners and owners[spelling] != name:
                        self.fail((*parts, key),
                                  f"{spelling!r} is a spelling of toggle {owners[spelling]!r} too",
                                  f"list it under one toggle only (tool.scopeguard.toggles.{_key_part(owners[spelling])}"
                                  f" or tool.scopeguard.toggles.{_key_part(name)}): a test of it cannot tell them apart",
                                  value=spelling)
                    owners.setdefault(spelling, name)
            options = {}
            if "off_values" in body:
                options["off_values"] = self.off_values((*parts, "off_values"), body["off_values"])
            toggles.append(Toggle(name=name, **spellings, **options))
        return tuple(toggles)

    def off_values(self, parts: KeyPath, value: Any) -> tuple[str, ...]:
        """The strings a toggle's environment variables and build-info keys hold while it is off
        (besides unset/missing); "" is allowed, letter case is ignored."""
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(parts, f"expected a list of strings, got {_kind(value)}",
                      'list the values that mean off, e.g. off_values = ["", "0", "off", "false", "no"]')
        return tuple(dict.fromkeys(item.strip().lower() for item in value))

    # -- scopes --

    def scopes(self, value: Any, toggle_names: set[str]) -> tuple[Scope, ...]:
        if not isinstance(value, list):
            hint = "write one [[tool.scopeguard.scopes]] table per scope"
            if isinstance(value, dict):
                hint = "write [[tool.scopeguard.scopes]] (two brackets) for each scope"
            self.fail(("scopes",), f"expected an array of tables, got {_kind(value)}", hint)
        scopes = [self.scope(index, body, toggle_names) for index, body in enumerate(value)]
        self.check_distinct(scopes)
        self.check_uses(scopes)
        self.check_prefixes(scopes)
        return tuple(scopes)

    def scope(self, index: int, body: Any, toggle_names: set[str]) -> Scope:
        parts: KeyPath = ("scopes", index)
        if not isinstance(body, dict):
            self.fail(parts, f"expected a table, got {_kind(body)}",
                      'write each scope as a [[tool.scopeguard.scopes]] table with name = "pkg.feature"')
        self.known_keys(parts, body, SCOPE_KEYS)
        if "name" not in body:
            self.fail(parts, "missing key 'name'", "name the scope's package, e.g. name = \"pkg.feature\"")
        name = body["name"]
        self.dotted_name((*parts, "name"), name)
        toggle = body.get("toggle")
        if toggle is not None:
            if not isinstance(toggle, str):
                self.fail((*parts, "toggle"), f"expected a string, got {_kind(toggle)}",
                          'name one toggle, e.g. toggle = "msc"')
            if not toggle.strip():
                self.fail((*parts, "toggle"), "empty string",
                          "name a toggle defined under [tool.scopeguard.toggles], or remove the key", value=toggle)
            if toggle not in toggle_names:
                if toggle_names:
                    match = _close_matches(toggle, sorted(toggle_names), n=1, cutoff=_CUTOFF)
                    defined = ", ".join(sorted(toggle_names))
                    hint = f"did you mean {match[0]!r}?" if match else f"defined toggles: {defined}"
                else:
                    hint = f"define it in a [tool.scopeguard.toggles.{_key_part(toggle)}] table"
                self.fail((*parts, "toggle"), f"toggle {toggle!r} is not defined", hint)
        allow = self.strings((*parts, "allow"), body.get("allow", []))
        for position, prefix in enumerate(allow):
            self.dotted_name((*parts, "allow", position), prefix)
        uses = self.strings((*parts, "uses"), body.get("uses", []))
        extra_paths = self.strings((*parts, "extra_paths"), body.get("extra_paths", []))
        for position, extra in enumerate(extra_paths):
            self.inside_project((*parts, "extra_paths", position), extra)
            if os.path.normpath(os.path.join(self.root, extra)) == os.path.normpath(self.root):
                self.fail((*parts, "extra_paths", position), f"{extra!r} is the whole project",
                          "name the files and folders that belong to the scope", value=extra)
        ffi_prefixes = self.strings((*parts, "ffi_prefixes"), body.get("ffi_prefixes", []))
        for position, prefix in enumerate(ffi_prefixes):
            if not _REGISTRY_NAME.fullmatch(prefix):
                self.fail((*parts, "ffi_prefixes", position), f"{prefix!r} is not a registry name prefix",
                          "write the start of the names the scope registers, e.g. 'relax.' or 'contrib.cutlass.'",
                          value=prefix)
        return Scope(
            name=name,
            toggle=toggle,
            allow=allow,
            uses=uses,
            extra_paths=extra_paths,
            line=self.locator.line_of((*parts, "name")),
            ffi_prefixes=ffi_prefixes,
        )

    def dotted_name(self, parts: KeyPath, name: Any) -> None:
        if not isinstance(name, str):
            self.fail(parts, f"expected a string, got {_kind(name)}", "write a dotted module name such as 'pkg.feature'")
        if not name:
            self.fail(parts, "empty module name", "write a dotted module name such as 'pkg.feature'")
        if not all(part.isidentifier() for part in name.split(".")):
            dotted = re.sub(r"[/\\]+", ".", name.strip("/\\")).removesuffix(".py")
            ok = dotted != name and all(part.isidentifier() for part in dotted.split("."))
            hint = f"did you mean {dotted!r}?" if ok else "write a dotted module name such as 'pkg.feature'"
            self.fail(parts, f"{name!r} is not a dotted module name", hint, value=name)
        self.nfkc(parts, name)

    def nfkc(self, parts: KeyPath, name: str) -> None:
        """Python reads identifiers NFKC-normalised (`pkg.ｆｅａｔ` is `pkg.feat`), and so do the facts:
        a name written otherwise here would never match the code."""
        normal = unicodedata.normalize("NFKC", name)
        if normal != name:
            self.fail(parts, f"{name!r} is not written as Python reads it",
                      f"write {normal!r}: Python reads identifiers in NFKC form", value=name)

    def check_distinct(self, scopes: list[Scope]) -> None:
        # Each module must belong to at most one scope, or "delete the scope" has no single meaning.
        for later, scope in enumerate(scopes):
            for earlier in range(later):
                other = scopes[earlier].name
                if other == scope.name:
                    self.fail(("scopes", later, "name"), f"scope {scope.name!r} is declared twice",
                              f"first declared as scopes[{earlier}] (line {scopes[earlier].line})")
                if scope.contains(other) or scopes[earlier].contains(scope.name):
                    self.fail(("scopes", later, "name"),
                              f"scope {scope.name!r} overlaps scope {other!r} (scopes[{earlier}])",
                              "a module belongs to one scope at most; merge the two or drop one")

    def check_prefixes(self, scopes: list[Scope]) -> None:
        # Overlapping prefixes are fine (the longest match owns a name); the same one twice is not.
        owners: dict[str, int] = {}
        for index, scope in enumerate(scopes):
            for position, prefix in enumerate(scope.owned_prefixes):
                earlier = owners.setdefault(prefix, index)
                if earlier != index:
                    where = ("scopes", index, "ffi_prefixes", position - 1) if position else ("scopes", index, "name")
                    self.fail(where, f"registry prefix {prefix!r} is owned by scopes[{earlier}] "
                                     f"({scopes[earlier].name}) already",
                              "a registry name must have one owner; drop it from one of them", value=prefix)

    def check_uses(self, scopes: list[Scope]) -> None:
        names = [scope.name for scope in scopes]
        for index, scope in enumerate(scopes):
            for position, used in enumerate(scope.uses):
                parts: KeyPath = ("scopes", index, "uses", position)
                if used == scope.name:
                    self.fail(parts, f"scope {used!r} lists itself", "a scope may always use its own modules",
                              value=used)
                if used not in names:
                    match = _close_matches(used, names, n=1, cutoff=_CUTOFF)
                    hint = f"did you mean {match[0]!r}?" if match else "list declared scopes only"
                    self.fail(parts, f"{used!r} is not a declared scope", hint, value=used)
        if not any(scope.uses for scope in scopes):
            return
        # Imported here: every run, the cached ones included, loads this module (~3 ms saved).
        from scopeguard.base.digraph import Digraph

        uses = Digraph.of(names, ((scope.name, used) for scope in scopes for used in scope.uses))
        cycle = uses.find_cycle(names)
        if cycle:
            # Scopes that use each other can only be deleted together: they are one scope.
            first = names.index(cycle[0])
            self.fail(("scopes", first, "uses", scopes[first].uses.index(cycle[1])),
                      f"scopes use each other in a cycle: {' -> '.join(cycle)}",
                      "scopes in a cycle cannot be deleted one at a time; merge them or drop a use",
                      value=cycle[1])


# --------------------------------------------------------------------------------------------
# Hints


def _module_hint(name: str, known: set[str]) -> str:
    if not known:
        return "no modules were found under the source roots; check source_roots"
    parent = name.rpartition(".")[0]
    depth = name.count(".")
    # Most typos are in the last part, so siblings are the best guesses; a bare "relax" usually
    # means "tvm.relax"; the whole project is the last resort.
    siblings = sorted(m for m in known if m.rpartition(".")[0] == parent)
    match = _close_matches(name, siblings, n=1, cutoff=_CUTOFF)
    if not match:
        match = sorted((m for m in known if m.endswith("." + name)), key=lambda m: (m.count("."), m))[:1]
    if not match:
        same_depth = sorted(m for m in known if m.count(".") == depth)
        match = _close_matches(name, same_depth, n=1, cutoff=_CUTOFF)
    if not match:
        match = _close_matches(name, sorted(known), n=1, cutoff=_CUTOFF)
    return f"did you mean {match[0]!r}?" if match else "name a package found under the source roots"


def _path_hint(root: str, relative: str, *, folders_only: bool = False) -> str:
    """A near miss among the entries of the folder that should hold `relative`."""
    fallback = f"name {'a folder' if folders_only else 'a path'} relative to the project root {root}"
    normalized = relative.replace("\\", "/").rstrip("/")
    head, _, tail = normalized.rpartition("/")
    folder = os.path.join(root, head)
    try:
        entries = sorted(
            e.name for e in os.scandir(folder) if not folders_only or e.is_dir()
        )
    except OSError:
        return fallback
    match = _close_matches(tail, entries, n=1, cutoff=_CUTOFF)
    if not match:
        return fallback
    return f"did you mean {(head + '/' if head else '') + match[0]!r}?"


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _kind(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a float",
             list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


# difflib serves only error messages: imported when first needed, since every run, the cached ones
# included, loads this module.
def _close_matches(word, possibilities, n=3, cutoff=0.6):
    import difflib

    return difflib.get_close_matches(word, possibilities, n=n, cutoff=cutoff)

