"""`scopeguard check`: report every place where a registered scope leaks."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from .common import (
    EXIT_CLEAN,
    EXIT_VIOLATIONS,
    UsageError,
    add_project_arguments,
    codes,
    display_path,
    load_config,
    open_cache,
)

NAME = "check"
HELP = "report every place where a registered scope leaks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_project_arguments(parser)
    parser.add_argument("--select", metavar="CODES", type=codes, default=[], action="extend",
                        help="only these codes or code prefixes, comma-separated (e.g. SG2,SG401)")
    parser.add_argument("--ignore", metavar="CODES", type=codes, default=[], action="extend",
                        help="skip these codes or code prefixes, comma-separated")
    parser.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")


def run(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from ..pipeline import Progress, analyse

    if args.select or args.ignore:
        from ..rules import unknown_prefixes  # the catalogue is imported only when needed

        unknown = unknown_prefixes(args.select + args.ignore)
        if unknown:
            raise UsageError(f"unknown rule code(s): {', '.join(unknown)}; `scopeguard rule` lists them")
    config = load_config(args)
    progress = Progress()
    try:
        analysis = analyse(
            config, args.select, args.ignore, cache=open_cache(args, config), jobs=args.jobs, progress=progress
        )
    except ConfigError as error:
        raise UsageError(str(error)) from None
    finally:
        progress.finish()
    root = Path(config.root)
    for v in analysis.violations:
        print(f"{display_path(root / v.path)}:{v.line}:{v.column}: {v.code} {v.message}")
    if not args.quiet:
        print(summary(analysis))
    return EXIT_VIOLATIONS if analysis.violations else EXIT_CLEAN


def summary(analysis) -> str:
    tail = f"{analysis.files_analysed} file(s) analysed"
    if analysis.files_unparsed:
        tail += f", {analysis.files_unparsed} could not be parsed"
    if not analysis.violations:
        return f"No violations; {tail}."
    by_code = Counter(v.code for v in analysis.violations)
    files = len({v.path for v in analysis.violations})
    listed = ", ".join(f"{code} x{count}" for code, count in sorted(by_code.items()))
    return f"Found {len(analysis.violations)} violation(s) in {files} file(s) ({listed}); {tail}."
