"""Load the configuration: find the pyproject.toml that has a `[tool.scopeguard]` table, read and
parse it (the only reader of TOML), check it into a Config, and later check the names that must
match the discovered code."""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from scopeguard.base.model import Config, ParseLimits
from scopeguard.base.paths import module_prefixes
from scopeguard.base.safeio import NotRegularFile, TooLarge, read_regular

from .errors import ConfigError
from .locate import _decode_error_position, _dotted
from .schema import LIMIT_MAX, LIMITS, MAX_CONFIG_BYTES
from .validate import _Checker, _kind, _module_hint, _path_hint


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
            data = loads_toml(read_regular(candidate, MAX_CONFIG_BYTES)[0].decode("utf-8"))
        except (OSError, UnicodeDecodeError, TomlProblem):
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
    ceilings: ParseLimits | None = None,
) -> Config:
    """Read and check `[tool.scopeguard]` of `path`; the keyword arguments replace its values.

    The project root is the folder of the file. Paths are kept as written, relative to the root.
    `ceilings` are the user's parse limits (user_ceilings(): command line, environment, defaults);
    the file may only lower them.
    """
    ceilings = ceilings if ceilings is not None else user_ceilings()
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
        data = loads_toml(text)
    except TomlProblem as err:
        raise ConfigError(abspath, err.line, "toml", f"invalid TOML: {err.message}", err.hint) from None

    checker = _Checker(abspath, os.path.dirname(abspath), text)
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
