"""What every subcommand shares: exit codes, the usage error, the project arguments, loading the
config and the facts with the cache, and how paths are shown."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..base.paths import display_path  # noqa: F401  (shown paths: every command imports it from here)
from ..base.text import printable  # noqa: F401  (text from the tree on one line: cli prints errors through it)

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with how scopeguard was called or configured: exit 2."""


def codes(value: str) -> list[str]:
    """A comma-separated list of rule codes or prefixes, as typed after --select/--ignore."""
    return [part.strip().upper() for part in value.split(",") if part.strip()]


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """PROJECT, --config, the root/exclude overrides, and the cache and parallelism options."""
    parser.add_argument(
        "project",
        nargs="?",
        default=".",
        help="project folder; its pyproject.toml with [tool.scopeguard] is found by walking up (default: .)",
    )
    parser.add_argument("--config", metavar="FILE", help="the pyproject.toml to use instead of searching")
    parser.add_argument("--source-root", metavar="DIR", action="append", dest="source_roots",
                        help="override `source_roots` (repeatable)")
    parser.add_argument("--extra-root", metavar="DIR", action="append", dest="extra_roots",
                        help="override `extra_roots` (repeatable)")
    parser.add_argument("--exclude", metavar="GLOB", action="append", dest="exclude",
                        help="override `exclude` (repeatable)")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where to keep parsed facts and the last result (default: a folder per project in "
                             "$XDG_CACHE_HOME/scopeguard, i.e. ~/.cache/scopeguard)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("-j", "--jobs", metavar="N", type=int, default=None,
                        help="processes for parsing changed files (default: number of cores)")
    add_limit_arguments(parser)


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """--parse-timeout, --parse-memory-mb, --max-file-mb: the user's ceilings on what parsing one
    file may cost. The project's `[tool.scopeguard]` may only lower them (it belongs to the tree
    being analysed); without an option, the environment variable, then the built-in default."""
    parser.add_argument("--parse-timeout", metavar="SECONDS", type=float, default=None,
                        help="seconds one file may take to parse (default: $SCOPEGUARD_PARSE_TIMEOUT or 60)")
    parser.add_argument("--parse-memory-mb", metavar="MB", type=int, default=None,
                        help="memory one parsing worker may add (default: $SCOPEGUARD_PARSE_MEMORY_MB or 2048)")
    parser.add_argument("--max-file-mb", metavar="MB", type=int, default=None,
                        help="larger files are reported (SG001), not read (default: $SCOPEGUARD_MAX_FILE_MB or 8)")


def ceilings(args: argparse.Namespace):
    """The user's parse limits (ParseLimits) from the options and the environment; UsageError if bad."""
    from ..config import ConfigError, user_ceilings

    try:
        return user_ceilings(getattr(args, "parse_timeout", None), getattr(args, "parse_memory_mb", None),
                             getattr(args, "max_file_mb", None))
    except ConfigError as error:
        raise UsageError(str(error)) from None


def load_config(args: argparse.Namespace):
    """The project's Config, or a UsageError that says which file, which key and what to do."""
    from ..config import ConfigError, find_config, load_config as load

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise UsageError(f"{args.config}: no such config file")
    else:
        start = Path(args.project)
        if not start.is_dir():
            raise UsageError(f"{args.project}: not a directory")
        # A file that names the table but does not parse is meant as the config: report what is
        # wrong with it rather than "no config found".
        path = find_config(start.resolve()) or _unparsable_config(start.resolve())
        if path is None:
            raise UsageError(
                f"no pyproject.toml with a [tool.scopeguard] table in {start.resolve()} or above; "
                f"run `scopeguard init {args.project}` to propose one, write one (see README: Configuration), "
                "or pass --config FILE"
            )
    try:
        return load(path, source_roots=args.source_roots, extra_roots=args.extra_roots, exclude=args.exclude,
                    ceilings=ceilings(args))
    except ConfigError as error:
        raise UsageError(str(error)) from None


def write_output(target, data: bytes | str, project_root: str | None, what: str, *, mode: int | None = None) -> None:
    """Write a file scopeguard produces (report, graph, patch, baseline, pyproject.toml, an edited
    source) through safeio.write_file: an exclusive temporary file with an unpredictable name,
    renamed into place; a symlink at the target, or a folder inside the project that resolves
    outside it, is refused. Any failure is a UsageError (exit 2) saying which file and why."""
    from ..base.safeio import write_file

    try:
        write_file(target, data, within=[project_root] if project_root else [], mode=mode)
    except OSError as error:
        raise UsageError(f"{display_path(Path(target))}: cannot write {what}: {error.strerror or error}") from None


def _unparsable_config(start: Path) -> Path | None:
    """The nearest pyproject.toml that mentions [tool.scopeguard] (find_config found none that parses)."""
    from ..config import MAX_CONFIG_BYTES
    from ..base.safeio import read_regular

    for folder in (start, *start.parents):
        try:  # a FIFO or a link to /dev/zero named pyproject.toml: passed over, no hang
            if b"tool.scopeguard" in read_regular(folder / "pyproject.toml", MAX_CONFIG_BYTES)[0]:
                return folder / "pyproject.toml"
        except OSError:
            continue
    return None


def open_cache(args: argparse.Namespace, config):
    """The cache the options ask for, or None with --no-cache."""
    if args.no_cache:
        return None
    from ..collect.cache import Cache, CacheDirError, resolve_cache_dir

    try:
        return Cache(resolve_cache_dir(args.cache_dir, config.root), config)
    except CacheDirError as error:
        raise UsageError(str(error)) from None


def collect_facts(args: argparse.Namespace, config):
    """Every file's facts (pipeline.Facts), from the cache where possible, with a progress line on a terminal."""
    from ..config import ConfigError
    from ..run.pipeline import Progress, collect

    progress = Progress()
    try:
        return collect(config, cache=open_cache(args, config), jobs=args.jobs, progress=progress)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    finally:
        progress.finish()
