"""`scopeguard fix --add-suppressions`: a suppression comment on every statement that has a finding
today (as ruff's `--add-noqa`), for a team adopting scopeguard on a large existing tree."""

from __future__ import annotations

import argparse
import os
import sys

from .common import EXIT_CLEAN, EXIT_VIOLATIONS, UsageError, add_project_arguments, load_config, open_cache

NAME = "fix"
HELP = "edit the tree: --add-suppressions writes `# scopeguard: ignore[CODE]` on every current finding"
EPILOG = """\
examples:
  scopeguard fix --add-suppressions --reason "adopted 2026-11; see issue 123"
  scopeguard fix --add-suppressions --select SG2    # only the SG2xx findings

Idempotent: a second run changes nothing. Only lines that have a finding are touched (the comment
goes where `check` reads it: the finding's line, a line of its statement); files outside the project (or reached through a symlink) are never written. Findings in
files that take no comment (pyproject.toml, CMake) are listed and left.

exit codes: 0 every finding is now suppressed, 1 some could not be, 2 usage error or a file that
could not be written (a read-only tree)"""

_READ_LIMIT = 64 * 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .check import codes

    add_project_arguments(parser)
    parser.add_argument("--add-suppressions", action="store_true", required=True,
                        help="append `# scopeguard: ignore[CODES] REASON` to each line with a finding")
    parser.add_argument("--reason", metavar="TEXT", default="",
                        help="text written after the comment, e.g. the adoption date or an issue")
    parser.add_argument("--select", metavar="CODES", type=codes, default=[], action="extend",
                        help="only these rule codes or prefixes")
    parser.add_argument("--ignore", metavar="CODES", type=codes, default=[], action="extend",
                        help="leave these rule codes or prefixes alone")


def run(args: argparse.Namespace) -> int:
    from ..actions.codemods import add_suppression
    from ..config import ConfigError
    from ..run.pipeline import analyse
    from ..base.safeio import read_regular, write_file

    if "\n" in args.reason or "\r" in args.reason:
        raise UsageError("--reason: one line of text")
    config = load_config(args)
    try:
        analysis = analyse(config, args.select, args.ignore, cache=open_cache(args, config), jobs=args.jobs)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    by_path: dict[str, dict[int, list[str]]] = {}
    for v in analysis.violations:
        codes = by_path.setdefault(v.path, {}).setdefault(v.line, [])
        if v.code not in codes:
            codes.append(v.code)
    root = os.path.realpath(config.root)
    written, statements, left, failed = 0, 0, [], []
    for path, findings in sorted(by_path.items()):
        full = os.path.join(root, path)
        if not path.endswith(".py") or any(line <= 0 for line in findings):
            left += [(path, line, codes, "no Python statement to put a comment on") for line, codes in findings.items()]
            continue
        if os.path.islink(full) or not _inside(os.path.realpath(full), root):
            left += [(path, line, codes, "the file is a symlink or lies outside the project: not written")
                     for line, codes in findings.items()]
            continue
        try:
            data, info = read_regular(full, _READ_LIMIT, follow=False)
            source = data.decode("utf-8")
            result = add_suppression.apply(source, findings, args.reason)
        except (OSError, UnicodeDecodeError, Exception) as error:  # noqa: BLE001 - one file's trouble, said
            left += [(path, line, codes, f"not edited: {type(error).__name__}: {error}") for line, codes in findings.items()]
            continue
        left += [(path, line, findings.get(line, []), "the line ends inside a string: the comment went on the line "
                  "above, which suppressions may not read yet") for line in result.above]
        if result.source != source:
            try:
                # An exclusive temporary file beside it, renamed over it; the file's mode is kept.
                write_file(full, result.source, within=[root], mode=info.st_mode & 0o777)
            except OSError as error:
                failed.append((path, error.strerror or str(error)))
                continue
            written += 1
            statements += len(result.lines) + len(result.above)
    print(f"scopeguard: {statements} statement(s) given a suppression in {written} file(s) "
          f"({len(analysis.violations)} finding(s))", file=sys.stderr)
    for path, line, codes, why in left:
        print(f"  {path}:{line}: {','.join(codes)}: {why}", file=sys.stderr)
    if failed:
        for path, why in failed:
            print(f"  {path}: cannot write it: {why}", file=sys.stderr)
        raise UsageError(f"{len(failed)} file(s) could not be written (a read-only tree?); the others were")
    return EXIT_VIOLATIONS if left else EXIT_CLEAN


def _inside(path: str, root: str) -> bool:
    return path.startswith(root.rstrip(os.sep) + os.sep)

