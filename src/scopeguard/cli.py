"""Command-line entry point: builds the parser from the subcommands and maps errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__
from .commands import COMMANDS
from .commands.common import EXIT_USAGE, UsageError, printable


EPILOG = """\
examples:
  scopeguard init                          # write a starting [tool.scopeguard] into ./pyproject.toml
  scopeguard check                         # every leak of every registered scope
  scopeguard check --diff origin/main      # only what the change since origin/main introduces
  scopeguard check --format sarif -o scopeguard.sarif
  scopeguard delete-plan tvm.contrib.msc   # what deleting a package breaks (registered or not)
  scopeguard graph --scope tvm.relax --inbound -o relax.svg
  scopeguard rule SG2                      # the SG2xx rules; `scopeguard rule SG201` explains one

exit codes:
  0  no violations (graph, init, rule, baseline: done)
  1  violations found, or files that could not be parsed (delete-plan: the deletion is not clean)
  2  usage or configuration error (the message names the file, line and key)
  141  the output pipe was closed early (`scopeguard ... | head`): nothing more is printed

`scopeguard COMMAND --help` shows each command's options and examples. Rule pages: docs/rules/."""


# Examples and exit codes for the commands whose modules do not carry their own EPILOG.
_EPILOGS = {
    "check": """\
examples:
  scopeguard check                              # the project found from here upwards
  scopeguard check path/to/project --select SG2 --ignore SG203,SG204
  scopeguard check --diff origin/main           # only what the change introduces (+ SG5xx)
  scopeguard check --format github              # annotations in a GitHub Actions log
  scopeguard check --format sarif -o scopeguard.sarif

exit codes: 0 no violations, 1 violations (or unparsable files; --fail-on-stale: stale baseline
entries), 2 usage or configuration error""",
    "baseline": """\
examples:
  scopeguard baseline            # writes scopeguard-baseline.json at the project root; commit it
  scopeguard check               # then reports only violations that are not in it

exit codes: 0 written, 2 usage or configuration error""",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scopeguard",
        description="Check that S0 scoped modules stay isolated, toggleable and deletable.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Like pip: the version and where it runs from, so a report can say which copy produced it.
    here = os.path.dirname(os.path.abspath(__file__))
    python = ".".join(map(str, sys.version_info[:2]))
    parser.add_argument("--version", action="version", version=f"scopeguard {__version__} from {here} (python {python})")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_arguments(subparsers.add_parser(
            command.NAME, help=command.HELP, description=command.HELP, epilog=getattr(command, "EPILOG", None) or _EPILOGS.get(command.NAME),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        ))
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
        code = command.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's shutdown
        return code
    except UsageError as error:
        # scopeguard's own line breaks (one per configuration error) stay; nothing else acts
        lines = "\n".join(printable(line) for line in str(error).split("\n"))
        print(f"scopeguard: error: {lines}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return _closed_pipe()


EXIT_CLOSED_PIPE = 141  # as a shell reports a command ended by SIGPIPE


def _closed_pipe() -> int:
    """The reader went away (`| head`): say nothing, and keep the interpreter from complaining
    when it flushes stdout at exit (the standard library's advice for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_CLOSED_PIPE
