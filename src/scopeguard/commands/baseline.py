"""`scopeguard baseline`: record today's violations so that `check` reports only new ones."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import (
    EXIT_CLEAN,
    UsageError,
    add_project_arguments,
    display_path,
    load_config,
    open_cache,
    write_output,
)

NAME = "baseline"
HELP = "record today's violations in a baseline file, so that `check` reports only new ones"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_project_arguments(parser)
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="where to write it (default: scopeguard-baseline.json at the project root, "
                             "which `check` then uses by itself)")


def run(args: argparse.Namespace) -> int:
    from ..run.baseline import BASELINE_NAME, dumps, record
    from ..config import ConfigError
    from ..run.pipeline import Progress, analyse

    config = load_config(args)
    progress = Progress()
    try:
        # What `check` reports with this config: its `select`/`ignore` (per-file ignores apply inside)
        reporting = config.reporting
        analysis = analyse(config, list(reporting.select), list(reporting.ignore), cache=open_cache(args, config),
                           jobs=args.jobs, progress=progress)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    finally:
        progress.finish()
    target = Path(args.output) if args.output else Path(config.root) / BASELINE_NAME
    counts = record(analysis.violations)
    text = dumps(counts)
    # An exclusive temporary file renamed into place: an interrupted run never leaves half a
    # baseline, and no name the tree planted (a symlink at the baseline's name) is written through.
    write_output(target, text, config.root, "the baseline")
    print(
        f"Wrote {display_path(target)}: {len(counts)} entr{'y' if len(counts) == 1 else 'ies'} "
        f"for {len(analysis.violations)} violation(s); `scopeguard check` now reports only new ones."
    )
    return EXIT_CLEAN
