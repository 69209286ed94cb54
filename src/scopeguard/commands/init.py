"""`scopeguard init [PROJECT]`: write a starting `[tool.scopeguard]` table into PROJECT's
pyproject.toml (created if missing): the roots it found, toggle candidates with their polarity, and
candidate scopes ranked by how close they are to S0, each with the evidence as a comment.

An existing table is never overwritten without `--force` (which replaces that table only and keeps
the rest of the file byte for byte); `--dry-run` prints the table instead of writing it. What is
written is loaded back with the same checks `check` applies before the file is kept, so `check`
runs on it at once.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from dataclasses import replace
from pathlib import Path

from ..base.text import printable, toml_string
from .common import EXIT_CLEAN, UsageError, add_limit_arguments, ceilings, display_path

NAME = "init"
HELP = "write a starting [tool.scopeguard] table: roots, toggle candidates, candidate scopes"
EPILOG = """\
examples:
  scopeguard init                      # into ./pyproject.toml (created if missing)
  scopeguard init path/to/project --dry-run
  scopeguard init --scope tvm.contrib.msc   # register that candidate at once
  scopeguard init --force              # replace an existing [tool.scopeguard] table

exit codes: 0 written (or printed), 2 usage error or an existing table without --force"""

_ACTIVE_TOGGLES = 12
_COMMENTED_TOGGLES = 12
_SCOPES = 10
_STRONG_KINDS = ("name", "environment", "build-info")
_HEADER = re.compile(r"^\s*\[\[?\s*(?P<key>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", nargs="?", default=".", help="the project folder (default: .)")
    parser.add_argument("--dry-run", action="store_true", help="print the table instead of writing it")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing [tool.scopeguard] table (the rest of the file is kept)")
    parser.add_argument("--scope", metavar="NAME", action="append", default=[],
                        help="register this package as a scope now, with the toggle found for it (repeatable)")
    parser.add_argument("-j", "--jobs", metavar="N", type=int, default=None,
                        help="processes for parsing (default: number of cores)")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where `check` keeps parsed facts, read and filled here too (default: as `check`)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    add_limit_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..base.safeio import read_regular
    from ..config import MAX_CONFIG_BYTES, TomlProblem, loads_toml

    root = Path(args.project)
    if not root.is_dir():
        raise UsageError(f"{args.project}: not a directory")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    try:
        root = root.resolve(strict=True)
    except (OSError, RuntimeError) as error:  # a symlink loop on the way
        raise UsageError(f"{args.project}: cannot resolve it: {getattr(error, 'strerror', None) or error}") from None
    target = root / "pyproject.toml"
    existing = ""
    register = list(args.scope)
    kept: list[str] = []
    mode = _existing_mode(target)
    if mode is not None:
        try:
            # The tree's own file, read as check reads it: a regular file only (not a FIFO, a
            # device, a link), bounded.
            existing = read_regular(target, MAX_CONFIG_BYTES, follow=False)[0].decode("utf-8")
            data = loads_toml(existing)
        except OSError as error:
            raise UsageError(f"{display_path(target)}: cannot read it: {error.strerror or error}") from None
        except UnicodeDecodeError as error:
            raise UsageError(f"{display_path(target)}: not valid TOML ({error}); fix it first") from None
        except TomlProblem as error:
            where = f"{display_path(target)}:{error.line}" if error.line else display_path(target)
            raise UsageError(f"{where}: invalid TOML: {error.message}; fix it first") from None
        tool = data.get("tool")
        if isinstance(tool, dict) and "scopeguard" in tool:
            if not args.force and not args.dry_run:  # a dry run writes nothing: it may always show
                line = _table_line(existing)
                where = f"{display_path(target)}:{line}" if line else display_path(target)
                raise UsageError(
                    f"{where}: already has a [tool.scopeguard] table; edit it, see the proposal with "
                    "--dry-run, or pass --force to replace that table (the rest of the file is kept)"
                )
            kept = _registered(tool["scopeguard"], register)
            if args.force:
                existing = _without_table(existing, data, display_path(target))

    suggestion = suggest(root, register, jobs=args.jobs, kept=kept, args=args)
    block = suggestion.text
    if args.dry_run:
        if kept:
            print(f"{display_path(target)}: its [tool.scopeguard] table is kept (a dry run writes nothing)",
                  file=sys.stderr)
        sys.stdout.write(block)
        print(suggestion.summary(display_path(target), written=False), file=sys.stderr)
        return EXIT_CLEAN
    new_text = existing + ("\n" if existing and not existing.endswith("\n\n") else "") + block
    if existing and not existing.endswith("\n"):
        new_text = existing + "\n\n" + block
    _write_checked(target, new_text, existing if mode is not None else None, mode)
    print(suggestion.summary(display_path(target), written=True), file=sys.stderr)
    return EXIT_CLEAN


def _registered(table, register: list[str]) -> list[str]:
    """The scopes the existing table registers, besides `register`: replacing the table (--force)
    keeps them registered. Their other keys (allow, uses, extra_paths, ffi_prefixes) are not carried
    over: the message names them, to be added back by hand."""
    scopes = table.get("scopes") if isinstance(table, dict) else None
    out: list[str] = []
    for entry in scopes if isinstance(scopes, list) else ():
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name in out or name in register:
            continue
        out.append(name)
        kept = sorted(k for k in entry if k not in ("name", "toggle"))
        if kept:
            print(f"scope {printable(name)} stays registered; add back its {', '.join(map(printable, kept))} "
                  "by hand (init does not carry them over)", file=sys.stderr)
    return out


class Suggestion:
    def __init__(self, text: str, sources, extras, files: int, active: int, commented: int, scopes, registered) -> None:
        self.text = text
        self.sources, self.extras, self.files = sources, extras, files
        self.active, self.commented, self.scopes, self.registered = active, commented, scopes, registered

    def summary(self, target: str, written: bool) -> str:
        head = f"Wrote [tool.scopeguard] to {target}" if written else "Printed a [tool.scopeguard] table"
        out = [
            f"{head}: source roots {', '.join(self.sources)}"
            + (f", extra roots {', '.join(self.extras)}" if self.extras else "")
            + f" ({self.files} Python files); {self.active} toggle(s) found"
            + (f" and {self.commented} less certain one(s) commented" if self.commented else "")
            + f"; {len(self.scopes)} candidate scope(s)"
            + (f", {len(self.registered)} registered ({', '.join(self.registered)})" if self.registered else " (commented)")
            + ".",
        ]
        if self.registered:
            out.append("Next: `scopeguard check` for the first report.")
        elif self.scopes:
            out.append(
                "No scope is registered yet, so `check` has nothing to guard: uncomment the candidate you mean "
                f"(or run `scopeguard init --force --scope {self.scopes[0].name}`), then `scopeguard check`."
            )
        return "\n".join(out)


def suggest(root: Path, register: list[str], jobs: int | None = None, kept: list[str] = (),
            args: argparse.Namespace | None = None) -> Suggestion:
    """Detect roots, toggles and candidate scopes of the project at `root`, as a TOML table.
    `register` names the scopes to register (`--scope`); `kept`, those an existing table registers,
    registered again unless they are no package any more.

    Every file is parsed as `check` parses it: in the contained workers, within the user's parse
    limits (`args`: --parse-timeout, --parse-memory-mb, --max-file-mb, else the environment and the
    defaults), and through `check`'s fact cache unless `args.no_cache`."""
    requested = list(register)
    register = requested + [name for name in kept if name not in requested]
    from ..config import ConfigError, default_config
    from ..collect.discover import discover
    from ..analysis.graph import ImportGraph
    from ..base.model import Toggle
    from ..run.pipeline import Progress, collect_facts
    from ..actions.suggest import add_cmake_evidence, dependency_checks, detect_roots, find_toggle_candidates, rank_scopes

    sources, extras = detect_roots(str(root))
    try:
        config = default_config(root, source_roots=sources, extra_roots=extras,
                                ceilings=ceilings(args) if args is not None else None)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    try:
        files = discover(config)
    except ConfigError as error:  # a folder linked outside the project, too many linked folders
        raise UsageError(str(error)) from None
    packages = sorted({f.module.split(".")[0] for f in files if not f.extra})
    candidates = find_toggle_candidates(files, packages, jobs=jobs, limits=config.limits)
    dependencies = dependency_checks(candidates, files, packages, max_bytes=config.limits.max_file_mb * 2**20)
    candidates = [c for c in candidates if c.spelling not in dependencies]
    add_cmake_evidence(str(root), candidates)
    groups = _group(candidates, packages)
    ranked = sorted(groups.items(), key=lambda item: (-sum(len(c.sightings) for c in item[1][1]), item[0]))
    strong = [(n, g) for n, g in ranked if any(c.kind in _STRONG_KINDS for c in g[1]) or sum(len(c.sightings) for c in g[1]) >= 2]
    active = strong[:_ACTIVE_TOGGLES]
    weak = [(n, g) for n, g in ranked if (n, g) not in active][:_COMMENTED_TOGGLES]
    toggles = tuple(
        Toggle(name, on_when_true=tuple(c.config_spelling for c in group) if polarity else (),
               on_when_false=() if polarity else tuple(c.config_spelling for c in group))
        for name, (polarity, group) in active
    )
    config = replace(config, toggles=toggles)
    progress = Progress()
    try:
        facts = collect_facts(config, cache=_cache(args, config), jobs=jobs, progress=progress)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    finally:
        progress.finish()
    graph = ImportGraph(facts)
    for a in register:
        for b in register:
            if a != b and b.startswith(a + "."):
                raise UsageError(f"--scope {a} and --scope {b} overlap; a scope cannot hold another")
    gone = [name for name in kept if name not in graph.modules and name not in requested]
    for name in gone:
        print(f"scope {printable(name)} of the existing table is no package any more: not registered again",
              file=sys.stderr)
    register = [name for name in register if name not in gone]
    missing = [name for name in register if name not in graph.modules]
    if missing:
        import difflib

        near = difflib.get_close_matches(missing[0], sorted(graph.modules), n=1)
        hint = f"; did you mean {near[0]}?" if near else ""
        raise UsageError(f"--scope {missing[0]}: no such package in {', '.join(sources)}{hint}")
    scopes = rank_scopes(config, graph, limit=_SCOPES)
    listed = {s.name for s in scopes}
    if register:  # a registered package is described even when it did not make the list
        extra = rank_scopes(config, graph, limit=len(register), near_only=False,
                            only=[name for name in register if name not in listed])
        scopes = scopes + extra
    toggle_for = {s.name: (s.toggle, s.toggle_sites) for s in scopes if s.toggle}
    text = _render(sources, extras, len(files), packages, active, weak, scopes, toggle_for, register, dependencies)
    return Suggestion(text, sources, extras, len(files), len(active), len(weak), scopes, list(register))


def _cache(args: argparse.Namespace | None, config):
    """The fact cache `check` uses for this project (None with --no-cache or without arguments)."""
    if args is None or getattr(args, "no_cache", True):
        return None
    from .common import open_cache

    return open_cache(args, config)


def _group(candidates, packages):
    """toggle name -> (on_when_true, [candidates]): spellings of one switch grouped by name and polarity."""
    from ..actions.suggest import _strip_project_prefix, toggle_name

    groups: dict[str, tuple[bool, list]] = {}
    for candidate in candidates:
        polarity = candidate.on_when_true
        name = toggle_name(_strip_project_prefix(candidate.spelling, packages))
        if not polarity:  # on when the spelling is false: `_RUNTIME_ONLY` -> not_runtime_only
            name = "not_" + name
        while name in groups and groups[name][0] != polarity:
            name += "_inverse" if not name.endswith("_inverse") else "_2"
        groups.setdefault(name, (polarity, []))[1].append(candidate)
    return groups


def _render(sources, extras, files, packages, active, weak, scopes, toggle_for, register, dependencies=None) -> str:
    from .. import __version__

    q = toml_string
    lines = [
        "[tool.scopeguard]",
        f"# Written by `scopeguard init` (scopeguard {__version__}): a start, to be reviewed. Every key is",
        "# described in the README (Configuration). Then run `scopeguard check`.",
        f"source_roots = [{', '.join(q(s) for s in sources)}]  "
        f"# {files} Python file(s); top-level package(s): {_comment(', '.join(packages) or 'none')}",
    ]
    if extras:
        lines.append(f"extra_roots = [{', '.join(q(s) for s in extras)}]  # scanned as importers only (tests)")
    lines.append("")
    if active:
        lines.append("# Toggles: names, attributes, environment variables and build-info keys tested in conditions")
        lines.append("# around imports, with the polarity the conditions show (`on_when_false`: the imports run")
        lines.append("# when the value is false).")
    else:
        lines.append("# No toggle found: no condition around an import tests a name, an environment variable or a")
        lines.append("# build-info key. Add [tool.scopeguard.toggles.NAME] tables for your switches.")
    for name, (polarity, group) in active:
        lines += _toggle_block(name, polarity, group, commented=False)
    if weak:
        lines.append("# Less certain toggle candidates (a call or attribute tested once); uncomment to use:")
        for name, (polarity, group) in weak:
            lines += _toggle_block(name, polarity, group, commented=True)
    if dependencies:
        lines.append("# Not proposed: predicates around imports that test whether a package outside the project is")
        lines.append("# installed (a dependency check, not a switch of the project's own code):")
        for spelling, why in sorted(dependencies.items())[:_COMMENTED_TOGGLES]:
            lines.append(_comment(f"#   {spelling}(): {why}"))
        if len(dependencies) > _COMMENTED_TOGGLES:
            lines.append(f"#   ... and {len(dependencies) - _COMMENTED_TOGGLES} more")
        lines.append("")
    for name in register:
        lines += _scope_block(next(s for s in scopes if s.name == name), toggle_for, commented=False)
    rest = [s for s in scopes if s.name not in register]
    if rest:
        lines.append("# Candidate scopes, closest to S0 first: not loaded by `import <package>`, deletion breaks")
        lines.append("# little, few modules outside import them. Uncomment one to register it:")
        lines.append("")
        for rank, scope in enumerate(rest, 1):
            lines += _scope_block(scope, toggle_for, commented=True, rank=rank)
    return "\n".join(lines).rstrip("\n") + "\n"


def _toggle_block(name, polarity, group, commented: bool) -> list[str]:
    c = "# " if commented else ""
    key = "on_when_true" if polarity else "on_when_false"
    out = [f"{c}[tool.scopeguard.toggles.{name}]"]
    for candidate in group:
        total = len(candidate.sightings)
        agree = sum(1 for s in candidate.sightings if s.on_when_true == polarity)
        first = candidate.sightings[0]
        imports = ", ".join(first.imports[:3]) + (", ..." if len(first.imports) > 3 else "")
        more = f"; {total - 1} more site(s)" if total > 1 else ""
        out.append(_comment(
            f"# {candidate.spelling} ({candidate.kind}): `if {first.test}` at {first.path}:{first.line} "
            f"guards {imports}{more}; {agree} of {total} site(s) need it {'true' if polarity else 'false'}"
        ))
        for path, line, command in candidate.cmake[:2]:
            out.append(_comment(f"#   also a CMake option: {command}({candidate.spelling} ...) at {path}:{line}"))
    out.append(f"{c}{key} = [{', '.join(toml_string(x.config_spelling) for x in group)}]")
    out.append("")
    return out


def _scope_block(scope, toggle_for, commented: bool, rank: int | None = None) -> list[str]:
    c = "# " if commented else ""
    top = scope.name.split(".")[0]
    # the chain starts at the top-level package whose import loads it (matplotlib for mpl_toolkits.mplot3d)
    if scope.loaded_by_root:
        loads = (f"`import {scope.loaded_by_root[0]}` loads it even with every toggle off "
                 f"({' -> '.join(scope.loaded_by_root)})")
    elif scope.loaded_with_toggles:
        loads = (f"`import {scope.loaded_with_toggles[0]}` loads it only while toggles are on "
                 f"({' -> '.join(scope.loaded_with_toggles)})")
    else:
        loads = f"`import {top}` does not load it"
    who = _names(scope.unguarded)
    evidence = [
        f"{scope.files} file(s); {loads}",
        f"outside importers at import time: {len(scope.unguarded)} unguarded{who}, {len(scope.guarded)} guarded; "
        f"{len(scope.lazy)} lazy (inside functions)",
        f"deleting it{' (toggle ' + scope.toggle + ' off)' if scope.toggle else ''} breaks {scope.broken} "
        f"module(s) at import time and {scope.broken_calls} call(s)"
        + (f", e.g. {' -> '.join(scope.example_chain)}" if scope.example_chain else ""),
    ]
    head = f"# {rank}. {scope.name}: " if rank else f"# {scope.name}: "
    out = [_comment(head + evidence[0])] + [_comment("#    " + e) for e in evidence[1:]]
    out.append(f"{c}[[tool.scopeguard.scopes]]")
    out.append(f"{c}name = {toml_string(scope.name)}")
    toggle = toggle_for.get(scope.name)
    if toggle:
        out.append(f"{c}toggle = {toml_string(toggle[0])}  # guards {toggle[1]} import site(s) of it outside it")
    else:
        out.append("# toggle = \"...\"  # none of the toggles above guards an import of it; SG401 asks for one")
    out.append("")
    return out


def _names(modules) -> str:
    if not modules:
        return ""
    shown = ", ".join(modules[:3]) + (", ..." if len(modules) > 3 else "")
    return f" ({shown})"


def _comment(text: str) -> str:
    """One comment line: file names and conditions come from the tree and may hold anything."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _table_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        match = _HEADER.match(line)
        if match and _is_ours(match.group("key")):
            return number
    return 0


def _is_ours(key: str) -> bool:
    key = re.sub(r"\s+", "", key).replace('"', "").replace("'", "")
    return key == "tool.scopeguard" or key.startswith("tool.scopeguard.")


def _without_table(text: str, data: dict, where: str) -> str:
    """`text` without its [tool.scopeguard] tables; refused unless the rest parses to the same data."""
    from ..config import tomllib

    kept, ours = [], False
    for line in text.splitlines(keepends=True):
        match = _HEADER.match(line)
        if match:
            ours = _is_ours(match.group("key"))
        if not ours:
            kept.append(line)
    result = "".join(kept).rstrip("\n")
    result = result + "\n" if result else ""
    expected = {k: v for k, v in data.items()}
    tool = dict(expected.get("tool", {}))
    tool.pop("scopeguard", None)
    if tool:
        expected["tool"] = tool
    else:
        expected.pop("tool", None)
    try:
        after = tomllib.loads(result)
    except tomllib.TOMLDecodeError:
        after = None
    if isinstance(after, dict) and after.get("tool") == {}:
        after.pop("tool")
    if after != expected:
        raise UsageError(
            f"{where}: the [tool.scopeguard] table is not written as plain [tool.scopeguard...] tables that "
            "can be removed safely (dotted keys under [tool]?); remove it by hand, then run `scopeguard init`"
        )
    return result


def _existing_mode(target: Path) -> int | None:
    """The permissions of the project's pyproject.toml, None when there is none. A symlink is
    refused: init neither reads the file it points to (perhaps outside the project) nor replaces
    the link with a copy of it."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UsageError(f"{display_path(target)}: cannot read it: {error.strerror or error}") from None
    if stat.S_ISLNK(info.st_mode):
        try:
            where = os.readlink(target)
        except OSError:
            where = "?"
        raise UsageError(
            f"{display_path(target)} is a symlink (to {where!r}); scopeguard init neither follows nor replaces "
            "it: add the table to the file it points to by hand (`scopeguard init --dry-run` prints it), "
            "or replace the link by a file"
        )
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{display_path(target)}: not a regular file (a folder, a FIFO or a device); remove it first")
    return info.st_mode & 0o777


def _write_checked(target: Path, text: str, previous: str | None, mode: int | None = None) -> None:
    """Write `text`, load it back with check's own validation, and restore the previous file if it fails."""
    from ..config import ConfigError, load_config
    from .common import write_output

    # An exclusive temporary file with an unpredictable name, renamed over the target: no name
    # the tree can plant beside pyproject.toml is written through.
    write_output(target, text, str(target.parent), "it", mode=mode)
    try:
        load_config(target)
    except ConfigError as error:
        if previous is None:
            target.unlink()
        else:
            write_output(target, previous, str(target.parent), "it", mode=mode)
        raise UsageError(f"scopeguard init wrote a table that does not load ({error}); please report this") from None
