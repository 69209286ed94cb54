"""Command-line entry point: builds the parser from the subcommands and maps errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__
from .commands import COMMANDS
from .commands.common import EXIT_USAGE, UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scopeguard",
        description="Check that S0 scoped modules stay isolated, toggleable and deletable.",
    )
    # Like pip: the version and where it runs from, so a report can say which copy produced it.
    here = os.path.dirname(os.path.abspath(__file__))
    python = ".".join(map(str, sys.version_info[:2]))
    parser.add_argument("--version", action="version", version=f"scopeguard {__version__} from {here} (python {python})")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_arguments(subparsers.add_parser(command.NAME, help=command.HELP, description=command.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # File names that are not valid UTF-8 must not crash the report.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    command = next((c for c in COMMANDS if c.NAME == args.command), None)
    if command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return command.run(args)
    except UsageError as error:
        print(f"scopeguard: error: {error}", file=sys.stderr)
        return EXIT_USAGE
