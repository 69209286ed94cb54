"""Command-line interface: argument parsing, output and exit codes only."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from . import __version__

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with how scopeguard was called or configured: exit 2."""


def _codes(value: str) -> list[str]:
    return [part.strip().upper() for part in value.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scopeguard",
        description="Check that S0 scoped modules stay isolated, toggleable and deletable.",
    )
    parser.add_argument("--version", action="version", version=f"scopeguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="report every place where a registered scope leaks")
    check.add_argument(
        "project",
        nargs="?",
        default=".",
        help="project folder; its pyproject.toml with [tool.scopeguard] is found by walking up (default: .)",
    )
    check.add_argument("--config", metavar="FILE", help="the pyproject.toml to use instead of searching")
    check.add_argument("--select", metavar="CODES", type=_codes, default=[], action="extend",
                       help="only these codes or code prefixes, comma-separated (e.g. SG2,SG401)")
    check.add_argument("--ignore", metavar="CODES", type=_codes, default=[], action="extend",
                       help="skip these codes or code prefixes, comma-separated")
    check.add_argument("--source-root", metavar="DIR", action="append", dest="source_roots",
                       help="override `source_roots` (repeatable)")
    check.add_argument("--extra-root", metavar="DIR", action="append", dest="extra_roots",
                       help="override `extra_roots` (repeatable)")
    check.add_argument("--exclude", metavar="GLOB", action="append", dest="exclude",
                       help="override `exclude` (repeatable)")
    check.add_argument("--cache-dir", metavar="DIR",
                       help="where to keep parsed facts and the last result (default: PROJECT_ROOT/.scopeguard_cache)")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument("-j", "--jobs", metavar="N", type=int, default=None,
                       help="processes for parsing changed files (default: number of cores)")
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")

    rule = commands.add_parser("rule", help="print a rule's documentation, or list all rules")
    rule.add_argument("code", nargs="?", help="a rule code such as SG201, or a rule name")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # File names that are not valid UTF-8 must not crash the report.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "rule":
            return _rule(args.code)
        parser.print_help()
        return EXIT_USAGE
    except UsageError as error:
        print(f"scopeguard: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _load(args: argparse.Namespace):
    from .config import ConfigError, find_config, load_config

    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise UsageError(f"{args.config}: no such config file")
    else:
        start = Path(args.project)
        if not start.is_dir():
            raise UsageError(f"{args.project}: not a directory")
        path = find_config(start.resolve())
        if path is None:
            raise UsageError(
                f"no pyproject.toml with a [tool.scopeguard] table in {start.resolve()} or above; "
                "add one (see README: Configuration) or pass --config FILE"
            )
    try:
        return load_config(path, source_roots=args.source_roots, extra_roots=args.extra_roots, exclude=args.exclude)
    except ConfigError as error:
        raise UsageError(str(error)) from None


def _check(args: argparse.Namespace) -> int:
    from .cache import Cache
    from .config import ConfigError
    from .pipeline import Progress, analyse

    if args.select or args.ignore:
        from .rules import unknown_prefixes  # the catalogue is imported only when needed

        unknown = unknown_prefixes(args.select + args.ignore)
    else:
        unknown = []
    if unknown:
        raise UsageError(f"unknown rule code(s): {', '.join(unknown)}; `scopeguard rule` lists them")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    config = _load(args)
    root = Path(config.root)
    cache = None
    if not args.no_cache:
        cache = Cache(Path(args.cache_dir) if args.cache_dir else root / ".scopeguard_cache", config)
    progress = Progress()
    try:
        analysis = analyse(config, args.select, args.ignore, cache=cache, jobs=args.jobs, progress=progress)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    finally:
        progress.finish()
    for v in analysis.violations:
        print(f"{_display(root / v.path)}:{v.line}:{v.column}: {v.code} {v.message}")
    if not args.quiet:
        print(_summary(analysis))
    return EXIT_VIOLATIONS if analysis.violations else EXIT_CLEAN


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory where possible."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _summary(analysis) -> str:
    tail = f"{analysis.files_analysed} file(s) analysed"
    if analysis.files_unparsed:
        tail += f", {analysis.files_unparsed} could not be parsed"
    if not analysis.violations:
        return f"No violations; {tail}."
    by_code = Counter(v.code for v in analysis.violations)
    files = len({v.path for v in analysis.violations})
    codes = ", ".join(f"{code} x{count}" for code, count in sorted(by_code.items()))
    return f"Found {len(analysis.violations)} violation(s) in {files} file(s) ({codes}); {tail}."


def _rule(code: str | None) -> int:
    from .rules import ALL_RULES, RULES_BY_CODE

    if code is None:
        for rule in ALL_RULES:
            print(f"{rule.code}  {rule.name:<28} {rule.severity.value:<8} {rule.summary}")
        return EXIT_CLEAN
    rule = RULES_BY_CODE.get(code.upper()) or next((r for r in ALL_RULES if r.name == code), None)
    if rule is None:
        import difflib

        names = list(RULES_BY_CODE) + [r.name for r in ALL_RULES]
        near = difflib.get_close_matches(code, names, n=1)
        hint = f"; did you mean {near[0]}?" if near else "; `scopeguard rule` lists them"
        raise UsageError(f"unknown rule {code!r}{hint}")
    print(rule.documentation(), end="")
    return EXIT_CLEAN
