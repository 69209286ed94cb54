"""Load the configuration: find the pyproject.toml that has a `[tool.scopeguard]` table, read and
parse it (the only reader of TOML), check it into a Config, and later check the names that must
match the discovered code."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from scopeguard.base.model import Config, ParseLimits
from scopeguard.base.paths import module_prefixes
from scopeguard.base.safeio import NotRegularFile, TooLarge, read_regular
from scopeguard.base.text import printable

from .errors import ConfigError
from .locate import _decode_error_position, _dotted, _Locator
from .schema import LIMIT_MAX, LIMITS, MAX_CONFIG_BYTES, KeyPath
from .validate import _Checker, _kind, _module_hint, _path_hint


def find_config(start: Path) -> Path | None:
    """The first pyproject.toml with a `[tool.scopeguard]` table, from `start` up to the root.

    A pyproject.toml without the table, or one that cannot be read or parsed, is passed over: a
    broken file of an enclosing project must not stop a nested project from finding its own. A
    pyproject.toml that is a symlink leading out of its folder is not read at all: it is returned,
    so that load_config refuses it with a message (passing it over would silently judge the tree
    with an enclosing project's configuration).
    """
    here = Path(os.path.abspath(start))
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if linked_outside(candidate) is not None:
            return candidate
        if not candidate.is_file():
            continue
        try:
            data = loads_toml(read_regular(candidate, MAX_CONFIG_BYTES)[0].decode("utf-8"))
        except (OSError, UnicodeDecodeError, TomlProblem):
            continue
        tool = data.get("tool")
        if isinstance(tool, dict) and "scopeguard" in tool:
            return candidate
    return None


def linked_outside(path: str | os.PathLike[str]) -> str | None:
    """Where `path` leads when it is a symlink whose target lies outside the folder that holds the
    link (the project root, for a configuration file), else None. A link inside the folder (to
    `conf/pyproject.toml`) is fine; a dangling one too (reading it fails as for a missing file)."""
    path = os.path.abspath(path)
    if not os.path.islink(path):
        return None
    real = os.path.realpath(path)
    folder = os.path.realpath(os.path.dirname(path))
    if real == folder or real.startswith(folder.rstrip(os.sep) + os.sep):
        return None
    return real


def load_config(
    path: str | os.PathLike[str],
    *,
    source_roots: Sequence[str] | None = None,
    extra_roots: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    ceilings: ParseLimits | None = None,
) -> Config:
    """Read and check `[tool.scopeguard]` of `path`; the keyword arguments replace its values.

    The project root is the folder of the file. Paths are kept as written, relative to the root.
    `ceilings` are the user's parse limits (user_ceilings(): command line, environment, defaults);
    the file may only lower them.
    """
    ceilings = ceilings if ceilings is not None else user_ceilings()
    abspath = os.path.abspath(path)
    target = linked_outside(abspath)
    if target is not None:
        raise ConfigError(
            abspath, 0, _dotted(()),
            f"the file is a symlink to {printable(target)}, outside the project folder {printable(os.path.dirname(abspath))}; "
            "scopeguard does not read a configuration from outside the project it checks",
            "replace the link by a copy of the file, or pass --config with the real file's path "
            "(the project root is the folder that holds the configuration)",
        )
    raw = read_config_bytes(abspath)
    return config_from_bytes(raw, abspath, os.path.dirname(abspath), source_roots=source_roots,
                             extra_roots=extra_roots, exclude=exclude, ceilings=ceilings)


def read_config_bytes(abspath: str) -> bytes:
    """A configuration file's bytes: a regular file, at most MAX_CONFIG_BYTES (ConfigError else)."""
    try:
        return read_regular(abspath, MAX_CONFIG_BYTES)[0]
    except NotRegularFile:
        raise ConfigError(abspath, 0, _dotted(()), "cannot read the file: not a regular file",
                          "name a pyproject.toml file") from None
    except TooLarge as err:
        raise ConfigError(abspath, 0, _dotted(()), f"cannot read the file: {err}",
                          "a pyproject.toml is a few kB; name the right file") from None
    except OSError as err:
        raise ConfigError(abspath, 0, _dotted(()), f"cannot read the file: {err.strerror or err}") from None


def config_from_bytes(
    raw: bytes,
    where: str,
    root: str,
    *,
    source_roots: Sequence[str] | None = None,
    extra_roots: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    ceilings: ParseLimits | None = None,
) -> Config:
    """Check the `[tool.scopeguard]` table of a configuration's bytes into a Config whose project
    root is `root`; errors name `where` (the file, or the file at a git revision for `check --diff`'s
    BASE side). The same checks as load_config, whatever the bytes came from."""
    ceilings = ceilings if ceilings is not None else user_ceilings()
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(where, 0, _dotted(()), f"cannot read the file: {len(raw)} bytes, above the limit of {MAX_CONFIG_BYTES}",
                          "a pyproject.toml is a few kB; name the right file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ConfigError(where, line, "toml", "invalid TOML: the file is not UTF-8", "save it as UTF-8") from None
    try:
        data = loads_toml(text)
    except TomlProblem as err:
        raise ConfigError(where, err.line, "toml", f"invalid TOML: {err.message}", err.hint) from None

    checker = _Checker(where, root, text)
    tool = data.get("tool")
    if not isinstance(tool, dict) or "scopeguard" not in tool:
        checker.fail((), "no [tool.scopeguard] table", 'add one, e.g. [tool.scopeguard] source_roots = ["src"]',
                     line=0)
    table = tool["scopeguard"]
    if not isinstance(table, dict):
        checker.fail((), f"expected a table, got {_kind(table)}", "write it as a [tool.scopeguard] table")
    return checker.config(table, source_roots, extra_roots, exclude, ceilings)


def default_config(
    root: str | os.PathLike[str],
    *,
    source_roots: Sequence[str] | None = None,
    extra_roots: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    ceilings: ParseLimits | None = None,
) -> Config:
    """The configuration of a project without a `[tool.scopeguard]` table: no toggles, no scopes
    (`scopeguard init` starts from it). The overrides are checked as in `load_config`."""
    import dataclasses

    abs_root = os.path.abspath(root)
    # Errors name the root folder, the only place there is to point at.
    ceilings = ceilings if ceilings is not None else user_ceilings()
    config = _Checker(abs_root, abs_root, "").config({}, source_roots, extra_roots, exclude, ceilings)
    return dataclasses.replace(config, config_path="")


class TomlProblem(Exception):
    """A TOML text that cannot be read: where (line, 0 if unknown), what, and what to do."""

    def __init__(self, line: int, message: str, hint: str = "") -> None:
        super().__init__(line, message, hint)
        self.line, self.message, self.hint = line, message, hint


def loads_toml(text: str) -> dict:
    """tomllib.loads, with every way a hostile text makes it fail turned into TomlProblem: a syntax
    error, nesting that exhausts the stack, and an integer of more than 4,300 digits (Python's limit
    for converting a string to int raises ValueError, which tomllib lets through)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line, message = _decode_error_position(err, text)
        # Editors on Windows may start the file with a byte-order mark, which TOML does not allow.
        hint = "save the file as UTF-8 without a byte-order mark" if text.startswith("\ufeff") else ""
        raise TomlProblem(line, message, hint) from None
    except (RecursionError, MemoryError):
        # tomllib recurses once per nested array or inline table: thousands deep exhaust the stack.
        raise TomlProblem(0, "arrays or tables nested too deeply to read",
                          "a scopeguard configuration needs at most two levels") from None
    except ValueError as err:
        raise TomlProblem(0, f"a value cannot be read ({_first_line(err)})",
                          "no setting needs a number that large") from None


def _first_line(err: BaseException) -> str:
    text = str(err).split("\n", 1)[0]
    return text[:200]


def user_ceilings(
    timeout: float | None = None,
    memory_mb: int | None = None,
    max_file_mb: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> ParseLimits:
    """The user's parse limits: each from its command-line option when given, else from its
    environment variable (SCOPEGUARD_PARSE_TIMEOUT, SCOPEGUARD_PARSE_MEMORY_MB,
    SCOPEGUARD_MAX_FILE_MB), else the built-in default. The analysed tree's configuration may
    only lower them. A bad value is a ConfigError naming the option or variable."""
    environ = os.environ if environ is None else environ
    given = {"timeout": timeout, "memory_mb": memory_mb, "max_file_mb": max_file_mb}
    values: dict[str, object] = {}
    for _key, field, low, unit, option, variable in LIMITS:
        value: object = given[field]
        origin = option
        if value is None and environ.get(variable, "").strip():
            origin, raw = variable, environ[variable].strip()
            try:
                value = float(raw) if field == "timeout" else int(raw, 10)
            except ValueError:
                kind = "a number" if field == "timeout" else "a whole number"
                raise ConfigError(variable, 0, "environment", f"expected {kind} of {unit}, got {raw[:40]!r}") from None
        if value is None:
            continue
        if not low <= value <= LIMIT_MAX:  # type: ignore[operator]  (also false for NaN)
            raise ConfigError(origin, 0, "command line" if origin == option else "environment",
                              f"{value:.6g} is out of range", f"give {low} to {LIMIT_MAX} {unit}")
        values[field] = value
        values[{"timeout": "timeout_from", "memory_mb": "memory_from", "max_file_mb": "max_file_from"}[field]] = origin
    return ParseLimits(**values)  # type: ignore[arg-type]


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
        try:  # bounded, and never through a link out of the project (load_config refused those)
            if linked_outside(config.config_path) is None:
                text = read_regular(config.config_path, MAX_CONFIG_BYTES)[0].decode("utf-8")
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


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One key of `[tool.scopeguard]` that differs between two versions of the configuration
    (`check --diff`: BASE's and the change's), located in the changed file."""

    key: str  # `tool.scopeguard.exclude`, `tool.scopeguard.scopes["tvm.relax"].allow`
    what: str  # "added", "removed" or "changed"
    line: int  # 1-based line in the changed file (0 when it cannot be told)


def config_changes(
    base_text: str, head_text: str, map_line: Callable[[int], int] | None = None
) -> tuple[ConfigChange, ...]:
    """Every key of `[tool.scopeguard]` added, removed or changed from `base_text` to `head_text`,
    in the order of the changed file. Arrays of tables whose elements all have a distinct `name`
    (the scopes) are matched by name, so removing one scope is one change, not one per scope after
    it. A key present after the change is located at its line; a removed key at the line of the
    change that removed it: its line in `base_text`, through `map_line` (BASE line -> line after
    the change, from the diff's hunks; without it, the line of its table after the change).

    Linear in the size of both texts (no text diff is computed here)."""
    base, head = _scopeguard_table(base_text), _scopeguard_table(head_text)
    head_at, base_at = _Locator(head_text), _Locator(base_text)
    found: list[tuple[int, int, ConfigChange]] = []  # (line, order seen, change)

    def add(what: str, label: str, head_path: KeyPath | None, base_path: KeyPath) -> None:
        if head_path is not None:
            line = head_at.line_of(head_path)
        else:
            at_base = base_at.line_of(base_path)
            line = map_line(at_base) if map_line is not None and at_base else head_at.line_of(base_path[:-1])
            line = min(line, max(len(head_at.lines), 1))  # a removal at the end of the file: its last line
        found.append((line, len(found), ConfigChange(label, what, line)))

    def walk(old: object, new: object, old_path: KeyPath, new_path: KeyPath, label: str) -> None:
        if _canon(old) == _canon(new):
            return
        if isinstance(old, dict) and isinstance(new, dict):
            for key in [*new, *(k for k in old if k not in new)]:
                sub = f"{label}.{_key_text(key)}"
                if key not in old:
                    add("added", sub, (*new_path, key), (*old_path, key))
                elif key not in new:
                    add("removed", sub, None, (*old_path, key))
                else:
                    walk(old[key], new[key], (*old_path, key), (*new_path, key), sub)
            return
        old_named, new_named = _named(old), _named(new)
        if old_named is not None and new_named is not None:
            for name, (index, element) in new_named.items():
                sub = f"{label}[{_json().dumps(name, ensure_ascii=False)}]"
                if name in old_named:
                    walk(old_named[name][1], element, (*old_path, old_named[name][0]), (*new_path, index), sub)
                else:
                    add("added", sub, (*new_path, index), (*old_path, index))
            for name, (index, _element) in old_named.items():
                if name not in new_named:
                    add("removed", f"{label}[{_json().dumps(name, ensure_ascii=False)}]", None, (*old_path, index))
            return
        add("changed", label, new_path, old_path)

    if _canon(base) != _canon(head):
        walk(base, head, (), (), "tool.scopeguard")
    return tuple(change for *_, change in sorted(found, key=lambda item: (item[0], item[1])))


def _scopeguard_table(text: str) -> dict:
    try:
        data = loads_toml(text)
    except TomlProblem:
        return {}
    tool = data.get("tool")
    table = tool.get("scopeguard") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else {}


def _named(value: object) -> dict[str, tuple[int, dict]] | None:
    """An array of tables each with a distinct string `name`, by name (index, table); else None."""
    if not isinstance(value, list) or not value:
        return None
    out: dict[str, tuple[int, dict]] = {}
    for index, element in enumerate(value):
        if not isinstance(element, dict) or not isinstance(element.get("name"), str) or element["name"] in out:
            return None
        out[element["name"]] = (index, element)
    return out


def _canon(value: object) -> object:
    """A value with its types spelled out, so that `1`, `1.0` and `true` differ as TOML says."""
    if isinstance(value, dict):
        return ("table", tuple(sorted((k, _canon(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("array", tuple(_canon(v) for v in value))
    return (type(value).__name__, value)


def _key_text(key: str) -> str:
    from .locate import _key_part

    return _key_part(key)


def _json():
    import json

    return json
