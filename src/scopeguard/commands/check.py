"""`scopeguard check`: report every place where a registered scope leaks.

What to report is decided here (all violations; minus a baseline's; with --diff only those the
change introduced, plus the SG5xx change rules); how it looks is the report package's job.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import (
    EXIT_CLEAN,
    EXIT_VIOLATIONS,
    UsageError,
    add_project_arguments,
    codes,
    load_config,
    open_cache,
    write_output,
)

NAME = "check"
HELP = "report every place where a registered scope leaks"
FORMATS = ("text", "json", "sarif", "github")  # report.FORMATS, without importing the package for --help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_project_arguments(parser)
    parser.add_argument("--select", metavar="CODES", type=codes, default=[], action="extend",
                        help="only these codes or code prefixes, comma-separated (e.g. SG2,SG401)")
    parser.add_argument("--ignore", metavar="CODES", type=codes, default=[], action="extend",
                        help="skip these codes or code prefixes, comma-separated")
    parser.add_argument("-q", "--quiet", action="store_true", help="print findings only: no consequence notes, no summary")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), json, sarif (2.1.0) or github (workflow-command annotations)")
    parser.add_argument("--paths", choices=("cwd", "project", "repo"), default="",
                        help="what every path in the report is relative to: the working directory, the project root, "
                             "or the repository root (default: text cwd, json project, sarif and github repo)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the text report: auto = on a terminal only; never when NO_COLOR is set")
    parser.add_argument("--baseline", metavar="FILE",
                        help="report only violations not recorded in FILE (default: scopeguard-baseline.json "
                             "at the project root, when it exists)")
    parser.add_argument("--no-baseline", action="store_true", help="ignore any baseline file")
    parser.add_argument("--fail-on-stale", action="store_true",
                        help="exit 1 when the baseline has entries that no longer occur")
    parser.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when findings are reported (they are still printed)")
    parser.add_argument("--fail-on", choices=("error", "warning", "never"), default=None,
                        help="the lowest severity that fails the run (default: `fail_on` in [tool.scopeguard], "
                             "else warning)")
    parser.add_argument("--diff", metavar="BASE",
                        help="report only what the change since BASE (a git commit, branch or tag; compared "
                             "from its merge base with HEAD to the working tree) introduces, plus the SG5xx "
                             "change rules")


def run(args: argparse.Namespace) -> int:
    from ..collect import early

    if not args.no_cache:
        # a parse worker that imports libcst while this run loads everything else (the one-file
        # pre-commit run: that import was most of its time); the scan adopts it, or it is killed
        early.start()
    try:
        return _run(args)
    finally:
        early.discard()


def _run(args: argparse.Namespace) -> int:
    from ..config import ConfigError
    from ..run.pipeline import Progress, analyse

    if args.baseline and args.no_baseline:
        raise UsageError("--baseline and --no-baseline contradict each other; give one")
    config = load_config(args)
    setup = None
    if args.diff:
        # The change is judged with BASE's configuration, reporting settings included: a change
        # that adds `ignore`, `per_file_ignores` or `fail_on = "never"` must not apply them to itself.
        from ..run.changes import GitError, diff_config

        try:
            setup = diff_config(config, args.diff, source_roots=args.source_roots, extra_roots=args.extra_roots,
                                exclude=args.exclude)
        except GitError as error:
            raise UsageError(str(error)) from None
        except ConfigError as error:
            raise UsageError(f"{error}\n(--diff judges the change with BASE's configuration, which does not fit the "
                             "project as it is now; land the configuration change on its own first)") from None
        config = setup.judged
    # CLI flags override the config: --select replaces `select`, --ignore replaces `ignore`.
    reporting = config.reporting
    args.select = list(args.select) or list(reporting.select)
    args.ignore = list(args.ignore) or list(reporting.ignore)
    if args.select or args.ignore or reporting.per_file_ignores:
        from ..rules import (
            unknown_prefixes,  # the catalogue is imported only when needed
        )

        unknown = unknown_prefixes(args.select + args.ignore + [c for _, codes in reporting.per_file_ignores for c in codes])
        if unknown:
            raise UsageError(f"unknown rule code(s): {', '.join(unknown)}; `scopeguard rule` lists them")
    baseline_path = _baseline_path(args, config)
    progress = Progress()
    diff = None
    try:
        if args.diff:
            from ..run.changes import GitError, check_diff

            try:
                diff = check_diff(
                    config, args.diff, args.select, args.ignore, cache=open_cache(args, config), jobs=args.jobs,
                    progress=progress, setup=setup,
                )
            except GitError as error:
                raise UsageError(str(error)) from None
            violations, analysed, unparsed = diff.violations, diff.files_analysed, diff.files_unparsed
        else:
            analysis = analyse(
                config, args.select, args.ignore, cache=open_cache(args, config), jobs=args.jobs, progress=progress
            )
            violations, analysed, unparsed = analysis.violations, analysis.files_analysed, analysis.files_unparsed
    except ConfigError as error:
        raise UsageError(str(error)) from None
    finally:
        progress.finish()

    from ..output.report import Report, find_repo_root, render

    baselined, stale = 0, ()
    if baseline_path:
        from ..run.baseline import BaselineError, load, split
        from ..run.baseline import stale as stale_entries
        from ..base.model import code_selected

        try:
            known = load(baseline_path, follow=bool(args.baseline))
        except BaselineError as error:
            raise UsageError(str(error)) from None
        new, old = split(violations, known, diff.likely_new if diff else lambda v: False)
        if diff is None:  # with --diff, what BASE already had is hidden, so absence proves nothing
            stale = tuple(stale_entries(known, violations, lambda code: code_selected(code, args.select, args.ignore)))
        violations, baselined = tuple(new), len(old)
    report = Report(
        violations=tuple(violations),
        files_analysed=analysed,
        files_unparsed=unparsed,
        project_root=config.root,
        repo_root=diff.repo_root if diff else find_repo_root(config.root),
        baseline_path=baseline_path,
        baselined=baselined,
        stale=stale,
        diff_base=args.diff or "",
        diff_commit=diff.commit if diff else "",
        preexisting=diff.preexisting if diff else 0,
        paths=args.paths,
    )
    if not config.scopes and not args.quiet:
        print(f"scopeguard: warning: no scopes are configured in {config.config_path or 'pyproject.toml'}, so nothing is "
              "checked; register one under [[tool.scopeguard.scopes]] (see README, 'Configuration'), or run "
              "`scopeguard init` to draft it", file=sys.stderr)
    _write(args, render(args.format, report, colour=_colour(args), quiet=args.quiet), config.root)
    if args.format == "text" and not args.quiet and report.violations and sys.stderr.isatty():
        from ..output.links import rule_hint  # for people at a terminal; the report itself stays as it was

        print(rule_hint(v.code for v in report.violations), file=sys.stderr)
    failing = [v for v in report.violations if _fails(v, args, reporting)]
    failed = bool(failing) or (args.fail_on_stale and bool(report.stale))
    return EXIT_VIOLATIONS if failed and not args.exit_zero else EXIT_CLEAN


def _fails(violation, args: argparse.Namespace, reporting) -> bool:
    """Whether a reported finding fails the run: its severity reaches the fail-on level, and, with
    --diff, a change rule (SG5xx) counts only when selected by name (it is informational else)."""
    from ..base.model import Severity

    level = args.fail_on or reporting.fail_on
    if level == "never" or (level == "error" and violation.severity is not Severity.ERROR):
        return False
    if args.diff and violation.code.startswith("SG5"):
        return any(prefix.startswith("SG5") for prefix in args.select)
    return True


def _baseline_path(args: argparse.Namespace, config) -> str:
    """The baseline to apply: --baseline FILE (must exist), else the project's default file if present."""
    if args.no_baseline:
        return ""
    if args.baseline:
        path = Path(args.baseline)
        if not path.is_file():
            raise UsageError(f"{args.baseline}: no such baseline file; write one with `scopeguard baseline -o {args.baseline}`")
        return str(path.resolve())
    from ..run.baseline import BASELINE_NAME

    default = Path(config.root) / BASELINE_NAME
    return str(default) if default.is_file() else ""


def _colour(args: argparse.Namespace) -> bool:
    if args.format != "text" or args.output:
        return False
    from ..output.report.text import use_colour

    return use_colour(sys.stdout, args.color)


def _write(args: argparse.Namespace, text: str, project_root: str) -> None:
    if not args.output:
        sys.stdout.write(text)
        return
    write_output(args.output, text, project_root, "the report")
