"""Find and validate the `[tool.scopeguard]` table of a pyproject.toml; the only reader of TOML.

The table is checked strictly: a typo silently ignored would switch a check off, so every unknown
key, wrong type or dangling name is a ConfigError that says where (file, line, dotted key), what is
wrong and, when one is near, the spelling that was probably meant.

Checking happens in two steps. `load_config` checks everything the file alone can tell;
`validate_modules` runs after discovery and checks the names that must match the code.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, Union

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from scopeguard.base.model import TYPE_CHECKING, Config, ParseLimits, Registries, Reporting, Scope, Toggle
from scopeguard.base.paths import module_prefixes
from scopeguard.base.safeio import NotRegularFile, TooLarge, read_regular

# No configuration is this large; a larger "pyproject.toml" is not one (or is an attack).
MAX_CONFIG_BYTES = 16 * 1024 * 1024

TOP_KEYS = ("source_roots", "extra_roots", "exclude", "toggles", "scopes", "registries",
            "parse_timeout", "parse_memory_mb", "max_file_mb",
            "select", "ignore", "per_file_ignores", "require_reason", "fail_on")
FAIL_ON = ("error", "warning", "never")
_CODE = re.compile(r"SG[0-9]{1,3}")
TOGGLE_KEYS = ("on_when_true", "on_when_false", "decorators")
TOGGLE_OPTIONS = ("off_values",)
SCOPE_KEYS = ("name", "toggle", "allow", "uses", "extra_paths", "ffi_prefixes")
REGISTRY_KEYS = ("register", "lookup", "init_api")
# A registry name or prefix as TVM spells them: "relax.", "contrib.cutlass.", "tvm.contrib.nnpack".
_REGISTRY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\.?")

_TABLE = ("tool", "scopeguard")
_CUTOFF = 0.6

# A key path below [tool.scopeguard]: table keys are str, array indexes are int.
Part = Union[str, int]
KeyPath = tuple[Part, ...]


class ConfigError(Exception):
    """A mistake in the configuration, located as precisely as the file allows."""

    def __init__(self, path: str, line: int, key: str, problem: str, hint: str = "") -> None:
        # Passing every field to Exception keeps the error picklable (it may cross processes).
        super().__init__(path, line, key, problem, hint)
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.key}: {self.problem}"
        return f"{text}; {self.hint}" if self.hint else text


class ConfigErrors(ConfigError):
    """Several mistakes in the configuration, all reported at once (one line each)."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        first = errors[0]
        super().__init__(first.path, first.line, first.key, first.problem, first.hint)
        self.errors = tuple(errors)

    def __reduce__(self):
        return (ConfigErrors, (self.errors,))

    def __str__(self) -> str:
        return "\n".join(ConfigError.__str__(e) for e in self.errors)


def find_config(start: Path) -> Path | None:
    """The first pyproject.toml with a `[tool.scopeguard]` table, from `start` up to the root.

    A pyproject.toml without the table, or one that cannot be read or parsed, is passed over: a
    broken file of an enclosing project must not stop a nested project from finding its own.
    """
    here = Path(os.path.abspath(start))
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if not candidate.is_file():
            continue
        try:
            data = tomllib.loads(read_regular(candidate, MAX_CONFIG_BYTES)[0].decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, MemoryError):
            continue
        tool = data.get("tool")
        if isinstance(tool, dict) and "scopeguard" in tool:
            return candidate
    return None


def load_config(
    path: str | os.PathLike[str],
    *,
    source_roots: Sequence[str] | None = None,
    extra_roots: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> Config:
    """Read and check `[tool.scopeguard]` of `path`; the keyword arguments replace its values.

    The project root is the folder of the file. Paths are kept as written, relative to the root.
    """
    abspath = os.path.abspath(path)
    try:
        raw = read_regular(abspath, MAX_CONFIG_BYTES)[0]
    except NotRegularFile:
        raise ConfigError(abspath, 0, _dotted(()), "cannot read the file: not a regular file",
                          "name a pyproject.toml file") from None
    except TooLarge as err:
        raise ConfigError(abspath, 0, _dotted(()), f"cannot read the file: {err}",
                          "a pyproject.toml is a few kB; name the right file") from None
    except OSError as err:
        raise ConfigError(abspath, 0, _dotted(()), f"cannot read the file: {err.strerror or err}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ConfigError(abspath, line, "toml", "invalid TOML: the file is not UTF-8", "save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line, message = _decode_error_position(err, text)
        # Editors on Windows may start the file with a byte-order mark, which TOML does not allow.
        hint = "save the file as UTF-8 without a byte-order mark" if text.startswith("\ufeff") else ""
        raise ConfigError(abspath, line, "toml", f"invalid TOML: {message}", hint) from None
    except (RecursionError, MemoryError):
        # tomllib recurses once per nested array or inline table: thousands deep exhaust the stack.
        raise ConfigError(abspath, 0, "toml", "invalid TOML: arrays or tables nested too deeply to read",
                          "a scopeguard configuration needs at most two levels") from None

    checker = _Checker(abspath, os.path.dirname(abspath), text)
    tool = data.get("tool")
    if not isinstance(tool, dict) or "scopeguard" not in tool:
        checker.fail((), "no [tool.scopeguard] table", 'add one, e.g. [tool.scopeguard] source_roots = ["src"]',
                     line=0)
    table = tool["scopeguard"]
    if not isinstance(table, dict):
        checker.fail((), f"expected a table, got {_kind(table)}", "write it as a [tool.scopeguard] table")
    return checker.config(table, source_roots, extra_roots, exclude)


def default_config(
    root: str | os.PathLike[str],
    *,
    source_roots: Sequence[str] | None = None,
    extra_roots: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> Config:
    """The configuration of a project without a `[tool.scopeguard]` table: no toggles, no scopes
    (`scopeguard init` starts from it). The overrides are checked as in `load_config`."""
    import dataclasses

    abs_root = os.path.abspath(root)
    # Errors name the root folder, the only place there is to point at.
    config = _Checker(abs_root, abs_root, "").config({}, source_roots, extra_roots, exclude)
    return dataclasses.replace(config, config_path="")


def validate_modules(config: Config, modules: Collection[str]) -> None:
    """Check the names that must match the code: scope names, `allow` prefixes, `extra_paths`.

    `modules` holds the discovered module names; their parent packages count as existing too, so
    that a namespace package (a folder without `__init__.py`) can be a scope.
    """
    known = set(modules)
    for module in modules:
        known.update(module_prefixes(module))
    text = ""
    if config.config_path:
        try:
            text = Path(config.config_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            pass  # without the text there are no line numbers, the errors stay right
    checker = _Checker(config.config_path or config.root, config.root, text)
    for index, scope in enumerate(config.scopes):
        if scope.name not in known:
            checker.fail(
                ("scopes", index, "name"),
                f"scope {scope.name!r} names no module or package",
                _module_hint(scope.name, known),
                line=scope.line,
            )
        for position, prefix in enumerate(scope.allow):
            if prefix not in known:
                checker.fail(
                    ("scopes", index, "allow", position),
                    f"{prefix!r} names no module or package",
                    _module_hint(prefix, known),
                    value=prefix,
                )
        for position, extra in enumerate(scope.extra_paths):
            if not os.path.exists(os.path.join(config.root, extra)):
                checker.fail(
                    ("scopes", index, "extra_paths", position),
                    f"{extra!r} does not exist",
                    _path_hint(config.root, extra),
                    value=extra,
                )


# --------------------------------------------------------------------------------------------
# Checking


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
    ) -> Config:
        errors: list[ConfigError] = []

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
        limits = attempt(lambda: self.limits(table), ParseLimits())
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

    def limits(self, table: Mapping[str, Any]) -> ParseLimits:
        """What parsing one file may cost: seconds, MB of memory per worker, MB of source."""
        default = ParseLimits()
        values = {}
        for key, field, low, unit in (("parse_timeout", "timeout", 1, "seconds"),
                                      ("parse_memory_mb", "memory_mb", 256, "MB"),
                                      ("max_file_mb", "max_file_mb", 1, "MB")):
            value = table.get(key, getattr(default, field))
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    field != "timeout" and not isinstance(value, int)):
                kind = "a number" if field == "timeout" else "a whole number"
                self.fail((key,), f"expected {kind} of {unit}, got {_kind(value)}", f"the default is {getattr(default, field)}")
            if not low <= value <= 1_000_000:
                self.fail((key,), f"{value} is out of range", f"give {low} to 1000000 {unit}; the default is "
                                                                f"{getattr(default, field)}")
            values[field] = value
        return ParseLimits(**values)

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

    def patterns(self, patterns: Sequence[str], *, from_cli: bool) -> None:
        """Each exclude pattern must be one git accepts and that can match something."""
        if not patterns:
            return
        import pathspec

        for index, pattern in enumerate(patterns):
            problem = ""
            if pattern.startswith("#"):
                problem, hint = "a pattern starting with '#' is a comment in gitignore", f"write \\{pattern}"
            else:
                try:
                    pathspec.GitIgnoreSpec.from_lines([pattern])
                except ValueError as err:
                    problem, hint = f"not a gitignore pattern ({err})", "a trailing backslash or a lone '!' is not allowed"
            if problem:
                self.fail(("exclude", index), f"{pattern!r}: {problem}" + (" (given on the command line)" if from_cli else ""),
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
            if not any(spellings.values()):
                self.fail(parts, f"toggle {name!r} defines no spelling",
                          "add on_when_true, on_when_false or decorators")
            both = sorted(set(spellings["on_when_true"]) & set(spellings["on_when_false"]))
            if both:
                self.fail((*parts, "on_when_false"),
                          f"{both[0]!r} is in both on_when_true and on_when_false",
                          "a spelling means 'on' in one polarity only", value=both[0])
            for key in ("on_when_true", "on_when_false"):
                for spelling in spellings[key]:
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


def _decode_error_position(err: Exception, text: str) -> tuple[int, str]:
    """tomllib puts the position at the end of its message; split it off into a line number."""
    message = str(err)
    lineno = getattr(err, "lineno", None)  # Python 3.14+
    match = re.search(r" \(at (?:line (\d+), column \d+|end of document)\)$", message)
    if match:
        message = message[: match.start()]
        if lineno is None:
            lineno = int(match.group(1)) if match.group(1) else max(1, len(text.splitlines()))
    return (lineno or 0), getattr(err, "msg", None) or message


# --------------------------------------------------------------------------------------------
# Key paths and line numbers


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key_part(part: str) -> str:
    return part if _BARE_KEY.fullmatch(part) else _json().dumps(part, ensure_ascii=False)


def _dotted(parts: Iterable[Part]) -> str:
    """`tool.scopeguard.scopes[1].toggle`: TOML dotted keys with 0-based indexes for arrays."""
    text = "tool.scopeguard"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else "." + _key_part(part)
    return text


_HEADER = re.compile(r"^\s*(\[\[|\[)(.+?)(\]\]|\])\s*(?:#.*)?$")
_KEY_PIECE = re.compile(r"""\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*""")


def _parse_key(text: str) -> tuple[str, ...] | None:
    """A TOML dotted key (`a."b.c".d`) as parts, or None when `text` is not one."""
    parts: list[str] = []
    pos = 0
    while True:
        match = _KEY_PIECE.match(text, pos)
        if not match:
            return None
        bare, basic, literal = match.groups()
        if bare is not None:
            parts.append(bare)
        elif basic is not None:
            try:
                parts.append(_json().loads(f'"{basic}"'))
            except ValueError:
                parts.append(basic)
        else:
            parts.append(literal)
        pos = match.end()
        if pos == len(text):
            return tuple(parts)
        if text[pos] != ".":
            return None
        pos += 1


def _top_level_lines(lines: list[str]) -> list[bool]:
    """For each line: does it start outside any multi-line string or array/inline table?

    Only such lines can hold a table header or a key, so text inside values cannot fool the
    locator. A rough lexer is enough: an error only costs a less precise line number.
    """
    flags = []
    closing: str | None = None  # delimiter of the open multi-line string
    depth = 0
    for line in lines:
        flags.append(closing is None and depth == 0)
        pos = 0
        while pos < len(line):
            if closing is not None:
                end = line.find(closing, pos)
                if end < 0:
                    break
                pos, closing = end + 3, None
                continue
            char = line[pos]
            if char == "#":
                break
            if line.startswith('"""', pos) or line.startswith("'''", pos):
                closing, pos = line[pos : pos + 3], pos + 3
            elif char == '"':
                pos += 1
                while pos < len(line) and line[pos] != '"':
                    pos += 2 if line[pos] == "\\" else 1
                pos += 1
            elif char == "'":
                end = line.find("'", pos + 1)
                pos = len(line) if end < 0 else end + 1
            else:
                if char in "[{":
                    depth += 1
                elif char in "]}":
                    depth = max(0, depth - 1)
                pos += 1
    return flags


class _Locator:
    """Line numbers for key paths; tomllib keeps none, so they come from the text itself.

    A key is looked up in the most specific table header that exists (`[tool.scopeguard.toggles.x]`,
    the N-th `[[tool.scopeguard.scopes]]`), then in its parents, so inline tables and dotted keys
    fall back to the line of the enclosing key or header.
    """

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.top = _top_level_lines(self.lines)
        self.headers: list[tuple[tuple[str, ...], bool, int]] = []  # key, is array, 0-based line
        for number, line in enumerate(self.lines):
            if not self.top[number]:
                continue
            match = _HEADER.match(line)
            if match and (match.group(1) == "[[") == (match.group(3) == "]]"):
                key = _parse_key(match.group(2))
                if key is not None:
                    self.headers.append((key, match.group(1) == "[[", number))

    def line_of(self, parts: KeyPath, value: str | None = None) -> int:
        """1-based line of the key (or of `value` inside its array), else of its table; 0 if none."""
        full: KeyPath = _TABLE + tuple(parts)
        for split in range(len(full), -1, -1):
            span = self._table(full[:split])
            if span is None:
                continue
            header, start, end = span
            if split < len(full) and isinstance(full[split], str):
                found = self._key(full[split], start, end)
                if found is not None:
                    return self._value(value, found, end) + 1
            return header + 1 if header >= 0 else 0
        return 0

    def _table(self, table: KeyPath) -> tuple[int, int, int] | None:
        """(header line, first body line, end) of a table, 0-based; header -1 for the root."""
        if not table:
            first = self.headers[0][2] if self.headers else len(self.lines)
            return -1, 0, first
        name, index = (table[:-1], table[-1]) if isinstance(table[-1], int) else (table, None)
        if any(isinstance(part, int) for part in name):
            return None  # tables inside array elements are not looked up
        if index is None:
            matches = [h for h in self.headers if h[0] == name and not h[1]]
        else:
            matches = [h for h in self.headers if h[0] == name and h[1]][index : index + 1]
        if not matches:
            return None
        header = matches[0][2]
        end = next((h[2] for h in self.headers if h[2] > header), len(self.lines))
        return header, header + 1, end

    def _key(self, key: str, start: int, end: int) -> int | None:
        spelled = "|".join(re.escape(s) for s in {key, _json().dumps(key, ensure_ascii=False), f"'{key}'"})
        pattern = re.compile(rf"^\s*(?:{spelled})\s*[=.]")
        return next((n for n in range(start, end) if self.top[n] and pattern.match(self.lines[n])), None)

    def _value(self, value: str | None, start: int, end: int) -> int:
        """The line that holds `value` as a string, from the key's line on (multi-line arrays)."""
        if value is None:
            return start
        spellings = (_json().dumps(value, ensure_ascii=False), f"'{value}'")
        for number in range(start, end):
            if any(s in self.lines[number] for s in spellings):
                return number
        return start


# difflib and json serve only error messages and quoted keys: imported when first needed, since
# every run, the cached ones included, loads this module.
def _close_matches(word, possibilities, n=3, cutoff=0.6):
    import difflib

    return difflib.get_close_matches(word, possibilities, n=n, cutoff=cutoff)


def _json():
    import json

    return json
