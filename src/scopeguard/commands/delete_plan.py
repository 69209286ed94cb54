"""`scopeguard delete-plan SCOPE`: what deleting a scope takes and what it breaks, optionally
checked for real (`--verify`) by deleting it in a temporary copy and importing every module."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from pathlib import Path

from .common import (
    EXIT_CLEAN,
    EXIT_VIOLATIONS,
    UsageError,
    add_project_arguments,
    collect_facts,
    load_config,
    write_output,
)

NAME = "delete-plan"
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C
HELP = "simulate deleting a scope (or any package): files to remove, modules it breaks (with chains), edits elsewhere"
EPILOG = """\
examples:
  scopeguard delete-plan tvm.contrib.msc               # a registered scope
  scopeguard delete-plan tvm.ir                        # any package: could it be an S0 module?
  scopeguard delete-plan tvm.ir --toggle relax         # ... assuming toggle relax guards it
  scopeguard delete-plan tvm.contrib.msc --format json | jq .broken
  scopeguard delete-plan tvm.contrib.msc --verify --python .venv/bin/python --env TVM_USE_MSC=0
  scopeguard delete-plan tvm.contrib.msc --verify --python python3.11 --verify-env inherit
  scopeguard delete-plan tvm.contrib.msc --apply -o msc.patch && git apply msc.patch
  scopeguard delete-plan tvm.contrib.msc --apply -o msc.patch --verify   # sweep the patched copy

A package that is not a registered scope is judged as if it were one (with --toggle, if given);
registered scopes that overlap it are left out for that run. Without a [tool.scopeguard] table
the project's defaults are used (source roots: --source-root, else src/ or .).

--verify runs the project's own code (every module is imported): run it only on a tree you would
import anyway. By default the imports see a clean environment (PATH, locale, PYTHON*, the library
path; HOME and TMPDIR inside the temporary copy), not your secrets; --verify-env inherit hands them
the whole environment. A module that does not import within --timeout is retried once alone and
then reported as timed out, never as broken.

exit codes: 0 the deletion is clean, 1 it breaks something or needs edits elsewhere, 2 usage error"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scope", help="the scope (or any package of the project) to delete, e.g. tvm.contrib.msc")
    add_project_arguments(parser)
    parser.add_argument("--toggle", metavar="TOGGLE",
                        help="for a package that is not a registered scope: the configured toggle assumed to guard it")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("--toggle-off", metavar="TOGGLE", action="append", default=[],
                        help="assume this toggle off as well as the scope's own (repeatable)")
    parser.add_argument("--verify", action="store_true",
                        help="delete the scope in a temporary copy and import every remaining module, "
                             "before and after, to compare with the prediction")
    parser.add_argument("--env", metavar="NAME=VALUE", action="append", default=[],
                        help="environment for the --verify imports, e.g. TVM_USE_MSC=0 (repeatable)")
    parser.add_argument("--python", metavar="PATH",
                        help="interpreter for the --verify imports: a path, or a name looked up on PATH such as "
                             "python3 (default: the one running scopeguard)")
    parser.add_argument("--verify-env", choices=("clean", "inherit"), default="clean",
                        help="environment of the --verify imports, which run the project's code: clean (default: "
                             "PATH, LANG/LC_*, PYTHON*, LD_LIBRARY_PATH, HOME and TMPDIR in the temporary copy, "
                             "plus --env) or inherit (all of yours, secrets included)")
    parser.add_argument("--timeout", metavar="S", type=float, default=60.0,
                        help="seconds allowed for one module's import under --verify (default: 60); one that "
                             "runs over is retried once alone, then reported as timed out, never as broken")
    parser.add_argument("--apply", action="store_true",
                        help="write the deletion as one patch for `git apply` (needs -o); with --verify, "
                             "the patch is what is applied and swept in the copy")
    parser.add_argument("-o", "--output", metavar="PATCH",
                        help="with --apply: the file the patch is written to (`-` for standard output)")


def run(args: argparse.Namespace) -> int:
    from ..run import pipeline
    from ..analysis import Reference, simulate_deletion
    from ..base.model import UnknownScope
    from ..collect.packaging import references

    _check_scope_argument(args)
    config = _config(args)
    scope = next((s for s in config.scopes if s.name == args.scope), None)
    if args.toggle is not None and config.toggle(args.toggle) is None:
        known = ", ".join(t.name for t in config.toggles) or "none configured"
        raise UsageError(f"--toggle {args.toggle}: no such toggle (toggles: {known})")
    if scope is not None and args.toggle is not None and args.toggle != scope.toggle:
        raise UsageError(f"--toggle: {scope.name} is a registered scope with toggle {scope.toggle or '(none)'}; "
                         "change it in the configuration")
    unknown = [t for t in args.toggle_off if config.toggle(t) is None]
    if unknown:
        raise UsageError(f"unknown toggle(s) for --toggle-off: {', '.join(unknown)}")
    env = _parse_env(args.env)
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, not {args.timeout}")
    python = _interpreter(args.python) if args.python else None
    if args.apply != bool(args.output):
        raise UsageError("--apply and -o PATCH go together: `delete-plan SCOPE --apply -o deletion.patch`")
    if args.output == "-" and args.format == "json":
        raise UsageError("-o - and --format json would share standard output: write the patch to a file")

    facts = collect_facts(args, config)
    if scope is None:  # any package: judged as if it were a registered scope
        config, scope = _ad_hoc_scope(config, args.scope, args.toggle, facts)
    project = pipeline.context(config, facts)
    scope = next((s for s in project.config.scopes if s.name == scope.name), scope)  # as the analysis sees it (a written toggle)
    packaging = [Reference(r.path, r.line, r.text, r.why) for r in references(facts.build.packaging, scope)]
    plan = simulate_deletion(project.graph, scope, toggles_off=args.toggle_off, references=packaging,
                             users=project.users(scope), packaging=[f"{r.path}:{r.line}" for r in packaging])
    sizes = _line_counts(config.root, plan.deleted_paths)
    patch, broken_after = _write_patch(args, config, project, plan, facts, packaging) if args.apply else (None, None)

    verification = None
    if args.verify:
        from ..actions.verify import verify_deletion

        deleted, gone = set(plan.deleted_modules), set(plan.deleted_paths)
        # not swept: the scope's modules, and any module whose file the deletion removes with it
        # (an `extra_paths` file inside the source roots: it fails with ModuleNotFoundError, as it must)
        remaining = [f.module for f in project.graph.files.values()
                     if not f.extra and f.module not in deleted and f.path not in gone]
        predicted = [b.module for b in plan.broken if not b.extra]
        if broken_after is not None:  # what the patch leaves broken, not what deleting the folder alone breaks
            predicted = [b.module for b in broken_after if not b.extra]
        try:
            verification = verify_deletion(config, scope, remaining, predicted, python=python, env=env,
                                           env_mode=args.verify_env, timeout=args.timeout, jobs=args.jobs,
                                           patch=patch.text if patch is not None else None,
                                           sites=[(r.path, r.line) for r in (*plan.unknown, *plan.cannot_fail)])
        except (OSError, RuntimeError) as error:
            raise UsageError(f"--verify could not run: {error}") from None
        except KeyboardInterrupt as stop:
            signum = getattr(stop, "signum", None)
            what = "terminated" if signum not in (None, signal.SIGINT) else "interrupted"
            print(f"scopeguard: {what}; the import sweep was stopped and the temporary copy removed", file=sys.stderr)
            return 128 + signum if signum is not None else EXIT_INTERRUPTED

    if args.format == "json":
        import json

        print(json.dumps(_as_json(config, plan, sizes, verification), indent=2))
    else:
        print(_as_text(config, plan, sizes, verification))
    broke = verification.broken if verification is not None else None
    return EXIT_CLEAN if plan.clean and not broke else EXIT_VIOLATIONS


def _broken_after(config, project, plan, sources, toggles_off, packaging) -> list:
    """What fails at import time once the patch is applied: the deletion simulated again on the
    project's facts with every Python file the patch edits scanned as the patch leaves it
    (`sources`: path -> text)."""
    from ..run import pipeline
    from ..analysis import simulate_deletion
    from ..analysis.graph import ImportGraph

    files = project.graph.files.values()
    by_path = {f.path: f for f in files}
    scanned = [(path, by_path[path].module, by_path[path].is_package, by_path[path].extra, text.encode("utf-8"))
               for path, text in sorted(sources.items()) if path in by_path]
    edited = {path for path, *_ in scanned}
    facts = [f for f in files if f.path not in edited] + pipeline.scan_sources(config, scanned)
    after = simulate_deletion(ImportGraph(facts), plan.scope, toggles_off=toggles_off, references=packaging,
                              users=project.users(plan.scope))
    return list(after.broken)


def _write_patch(args: argparse.Namespace, config, project, plan, facts, packaging):
    """`--apply`: the deletion as a patch (codemods.deletion_patch), written to -o; a summary on
    stderr. Returns the patch and what still fails at import time once it is applied."""
    from ..actions.codemods.deletion_patch import build_patch, describe

    after: list = []

    def still_broken(sources):
        after[:] = _broken_after(config, project, plan, sources, args.toggle_off, packaging)
        return {b.module for b in after}

    patch = build_patch(config, project.graph, plan, facts.build, _targets(config, plan), still_broken=still_broken)
    if args.output == "-":
        sys.stdout.write(patch.text)
    else:
        write_output(args.output, patch.text, config.root, "the patch")
    hunks = sum(patch.edited.values())
    where = "standard output" if args.output == "-" else args.output
    print(f"scopeguard: patch written to {where}: deletes {len(patch.deleted)} file(s), edits {len(patch.edited)} "
          f"file(s) in {hunks} hunk(s); {len(patch.not_edited)} place(s) not edited (listed at its top):",
          file=sys.stderr)
    for item in patch.not_edited:
        print(f"  {describe(item)}", file=sys.stderr)
    return patch, after


def _check_scope_argument(args: argparse.Namespace) -> None:
    """`delete-plan path/to/project` (the scope left out): say so instead of "no pyproject.toml"."""
    name = args.scope
    looks_like_path = "/" in name or os.sep in name or name in (".", "..") or name.endswith(".toml")
    if looks_like_path or (not _dotted(name) and os.path.isdir(name)):
        raise UsageError(
            f"{name!r} is not a package name: give the scope to delete first, then the project folder: "
            "`scopeguard delete-plan SCOPE [PROJECT]` (e.g. `scopeguard delete-plan tvm.contrib.msc .`)"
        )
    if not _dotted(name):
        raise UsageError(f"{name!r} is not a dotted package name such as tvm.contrib.msc")


def _dotted(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _config(args: argparse.Namespace):
    """The project's configuration, or its defaults when it has no [tool.scopeguard] table (any
    package can be judged without one)."""
    from ..config import ConfigError, default_config, find_config

    if args.config or find_config(os.path.abspath(args.project)) is not None:
        return load_config(args)
    try:
        from .common import _unparsable_config, ceilings

        if _unparsable_config(Path(os.path.abspath(args.project))) is not None:
            return load_config(args)  # reports what is wrong with it
        if not os.path.isdir(args.project):
            raise UsageError(f"{args.project}: not a directory")
        return default_config(args.project, source_roots=args.source_roots, extra_roots=args.extra_roots,
                              exclude=args.exclude, ceilings=ceilings(args))
    except ConfigError as error:
        raise UsageError(str(error)) from None


def _ad_hoc_scope(config, name: str, toggle: str | None, facts):
    """A Scope for package `name` built from the command line, and the config it is judged in
    (registered scopes that overlap it left out: a module belongs to one scope)."""
    import dataclasses
    import difflib

    from ..base.model import Scope, UnknownScope

    modules = {f.module for f in facts.files if not f.extra}
    known = {".".join(m.split(".")[:i]) for m in modules for i in range(1, m.count(".") + 2)}
    if name not in known:
        try:
            config.scope_named(name)  # raises, naming the nearest configured scope
        except UnknownScope as error:
            near = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean the package {near[0]!r}?" if near else ""
            raise UsageError(f"{error} (nor a package of the project: any package can be judged){hint}") from None
    scope = Scope(name=name, toggle=toggle)
    kept = tuple(s for s in config.scopes if not (s.contains(name) or scope.contains(s.name)))
    dropped = [s.name for s in config.scopes if s not in kept]
    if dropped:
        print(f"scopeguard: {name} is not a registered scope; judged as one, without the overlapping "
              f"scope(s) {', '.join(dropped)}", file=sys.stderr)
    return dataclasses.replace(config, scopes=(*kept, scope)), scope


def _interpreter(python: str) -> str:
    """--python: a path to an executable, or a bare name (python3, python3.11) looked up on PATH."""
    if os.sep not in python and (os.altsep is None or os.altsep not in python):
        found = shutil.which(python)
        if found is None:
            raise UsageError(f"--python {python}: no executable of that name on PATH; give a path "
                             "(e.g. --python .venv/bin/python)")
        return found
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        raise UsageError(f"--python {python}: not an executable file")
    return python


def _parse_env(items: list[str]) -> dict[str, str]:
    env = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--env {item!r}: expected NAME=VALUE")
        env[name] = value
    return env


def _line_counts(root: str, paths) -> dict[str, int]:
    counts = {}
    for path in paths:
        try:
            with open(os.path.join(root, path), "rb") as handle:
                counts[path] = sum(1 for _ in handle)
        except OSError:
            counts[path] = 0
    return counts


def _targets(config, plan) -> list[str]:
    from ..actions.verify import deletion_targets

    return deletion_targets(config, plan.scope)


def _as_text(config, plan, sizes, verification) -> str:
    from ..analysis import format_chain
    from ..base.paths import under
    from ..base.text import printable

    scope = plan.scope
    off = ", ".join(plan.toggles_off) or "none (the scope has no toggle)"
    if scope.toggle_written:
        off = (", ".join(plan.toggles_off) or "none") + (
            f"; its toggle {scope.toggle} is not: code turns it on at import time at "
            + ", ".join(scope.toggle_written[:3]) + (" and more" if len(scope.toggle_written) > 3 else ""))
    out = [f"Deleting scope {scope.name} (toggles assumed off: {off})", ""]
    for user in plan.users:
        out.append(f"First: delete or turn off {user} first (it declares uses = [\"{scope.name}\"]); "
                   "its toggle is assumed off and its modules are not listed below")
    if plan.users:
        out.append("")
    total = sum(sizes.values())
    out.append(f"Delete: {len(plan.deleted_paths)} Python file(s), {total} line(s)")
    for target in _targets(config, plan):
        inside = [p for p in plan.deleted_paths if under(p, target)]
        label = " (extra path)" if target in [e.strip("/") for e in scope.extra_paths] else ""
        out.append(f"  {target}{'/' if not target.endswith('.py') else ''}{label}: "
                   f"{len(inside)} file(s), {sum(sizes[p] for p in inside)} line(s)")
    out.append("")
    modules = [b for b in plan.broken if not b.extra]
    files = [b for b in plan.broken if b.extra]
    out.append(f"Broken at import time: {len(modules)} module(s), {len(files)} extra-root file(s)")
    for b in plan.broken:
        where = f"{b.path}:{b.line}" if b.line else f"{b.path} (its package fails)"
        line = f"  {where}: {format_chain(b.chain)}"
        if b.attached:
            line += f" -- reads {b.attached} (no import names the scope)"
        if b.via:
            line += f" through the calls {' -> '.join(b.via)}"
            if b.written_at:
                line += f"; the name is written at {b.written_at} (remove it there)"
            if b.unless:
                line += f"; runs in the code's default state (unless: {'; '.join(b.unless)})"
        out.append(line)
    out.append("")
    out.append(f"Calls that break later (imports inside functions): {len(plan.lazy)}")
    for item in plan.lazy:
        target = item.imported if len(item.chain) == 1 else format_chain(item.chain)
        out.append(f"  {item.path}:{item.line}: {item.importer} imports {target}"
                   + (" (deleted)" if len(item.chain) == 1 else ""))
    out.append("")
    out.append(f"Edits needed elsewhere: {len(plan.references)}")
    for ref in plan.references:
        out.append(f"  {ref.path}:{ref.line}: {ref.text} -- {ref.why}")
    out.append("")
    at_import = [u for u in plan.unknown if u.at_import]
    out.append(f"Unknown: dynamic imports whose target cannot be known, which may load the scope: {len(plan.unknown)} "
               f"({len(at_import)} may run at import time)")
    for ref in plan.unknown:
        out.append(f"  {ref.path}:{ref.line}: {ref.text}")
        out.append(f"      why unknown: {ref.why}")
        out.append(f"      when: {ref.when}")
        if verification is not None:
            out.append(f"      --verify: {_site_loads_text(verification.site_loads.get((ref.path, ref.line), ()))}")
    out.append("")
    if plan.cannot_fail:
        out.append(f"Dynamic imports that may load the scope but cannot fail for its absence (not counted): "
                   f"{len(plan.cannot_fail)}")
        for ref in plan.cannot_fail:
            out.append(f"  {ref.path}:{ref.line}: {ref.text}")
            out.append(f"      why: {ref.why}")
            if verification is not None:
                out.append(f"      --verify: {_site_loads_text(verification.site_loads.get((ref.path, ref.line), ()))}")
        out.append("")
    out.append(f"Guarded imports left behind (nothing breaks; tidy them with the deletion): {len(plan.guarded)}")
    for ref in plan.guarded:
        out.append(f"  {ref.path}:{ref.line}: {ref.text} -- {ref.why}")
    if verification is not None:
        out += ["", *_verification_text(verification)]
    out += ["", *_verdict_lines(plan), ""]
    if plan.clean and not (verification and verification.broken):
        out.append(f"Clean: deleting {', '.join(_targets(config, plan))} is all it takes.")
    elif plan.verdict == "unknown" and not (verification and verification.broken):
        out.append(f"Unknown: nothing is known to break, but {len(plan.unknown)} dynamic import(s) of unknown "
                   "target may load the scope (listed above); review them before calling the deletion clean.")
    else:
        out.append(f"Not clean: {len(plan.broken)} broken at import time, {len(plan.lazy)} call site(s), "
                   f"{len(plan.references)} edit(s) elsewhere, {len(plan.unknown)} dynamic import(s) of unknown target.")
    if verification is not None:
        v = verification
        inside = sum(1 for loads in v.site_loads.values() if any(x.in_scope for x in loads))
        out.append(f"Sweep: {len(v.broken)} broken by the deletion, {len(v.timed_out)} timed out (not checked), "
                   f"{len(v.ok)} ok after the deletion; {inside} of {len(plan.unknown) + len(plan.cannot_fail)} "
                   "watched dynamic-import site(s) loaded the scope during the sweep.")
    return "\n".join(printable(line) for line in out)  # names from the tree: one line each, nothing acted on


def _site_loads_text(loads) -> str:
    """What one unknown dynamic-import site loaded during the sweeps, for the line beside it."""
    if not loads:
        return "loaded nothing during the sweep"
    names = [load.module + ("" if load.ok else " (failed)") for load in loads]
    shown = ", ".join(names[:8]) + (f", and {len(names) - 8} more" if len(names) > 8 else "")
    inside = [load.module for load in loads if load.in_scope]
    text = f"loaded {shown}"
    if inside:
        text += f"; INSIDE THE DELETED SCOPE: {', '.join(inside[:8])}" + (" ..." if len(inside) > 8 else "")
    return text


def _verdict_lines(plan) -> list[str]:
    """The two verdicts by when things break, each with its evidence."""
    names = {"clean": "Clean", "not clean": "Not clean", "unknown": "Unknown"}
    at_import = [u for u in plan.unknown if u.at_import]
    verdict = plan.import_verdict
    if verdict == "not clean":
        users = f"; first delete or turn off {', '.join(plan.users)}" if plan.users else ""
        evidence = f"{len(plan.broken)} module(s) or file(s) fail when imported{users}"
    elif verdict == "unknown":
        places = [f"{u.path}:{u.line}" for u in at_import] + [f"{r.path}:{r.line}" for r in plan.import_prefixed]
        evidence = (f"nothing is known to fail, but {len(places)} dynamic import(s) that may run at import time "
                    f"may load the scope ({', '.join(places[:5])}{', ...' if len(places) > 5 else ''})")
    else:
        evidence = "no remaining module imports the scope when imported, and no dynamic import that may run then can load it"
    out = [f"Import time: {names[verdict]} -- {evidence}"]
    verdict = plan.call_time_verdict
    if verdict == "not clean":
        evidence = (f"{len(plan.lazy)} call site(s) break later, {len(plan.references)} place(s) name the scope "
                    "and need an edit" + (f"; first delete or turn off {', '.join(plan.users)}" if plan.users else ""))
    elif verdict == "unknown":
        evidence = f"{len(plan.unknown)} dynamic import(s) of unknown target may load the scope when their function runs"
    else:
        evidence = "no function's import or lookup reaches the scope, and no dynamic import can load it"
    out.append(f"Call time: {names[verdict]} -- {evidence}")
    return out


def _verification_text(v) -> list[str]:
    how = "forked after importing the top-level package" if v.after.forked else "one interpreter per module"
    out = [f"Verified by importing {len(v.after.outcomes)} module(s) in a copy, before and after the deletion ({how}):",
           f"  ok after the deletion: {len(v.ok)}",
           f"  fail anyway (before the deletion too): {len(v.failing_anyway)}",
           f"  broken by the deletion: {len(v.broken)}",
           f"  timed out (not checked, never counted as broken; retried once alone): {len(v.timed_out)}",
           f"  predicted and broken: {len(v.predicted_and_broken)}",
           f"  predicted but fine: {len(v.predicted_but_fine)}",
           f"  broken but not predicted: {len(v.broken_not_predicted)}"]
    for module in v.predicted_but_fine:
        out.append(f"    predicted but fine: {module}")
    for module in v.broken_not_predicted:
        out.append(f"    broken but not predicted: {module}: {v.broken[module]}")
    for module, (seconds, sweep) in v.timed_out.items():
        out.append(f"    timed out: {module} ({sweep} the deletion, after {seconds:.1f}s)")
    if v.left_out:
        out.append(f"  left out of the copy: {len(v.left_out)} file(s)")
        for path, why in v.left_out:
            out.append(f"    left out: {path}: {why}")
    return out


def _as_json(config, plan, sizes, verification) -> dict:
    data = {
        "scope": plan.scope.name,
        "toggles_off": list(plan.toggles_off),
        "clean": plan.clean and not (verification and verification.broken),
        "verdict": "not clean" if verification and verification.broken else plan.verdict,
        "import_time": "not clean" if verification and verification.broken else plan.import_verdict,
        "call_time": plan.call_time_verdict,
        "users": list(plan.users),
        "delete": {
            "targets": _targets(config, plan),
            "files": [{"path": p, "lines": sizes[p]} for p in plan.deleted_paths],
            "modules": list(plan.deleted_modules),
            "lines": sum(sizes.values()),
        },
        "broken": [{"module": b.module, "path": b.path, "line": b.line, "column": b.column,
                    "chain": list(b.chain), "extra": b.extra, "via": list(b.via), "written_at": b.written_at,
                    "unless": list(b.unless), "attached": b.attached} for b in plan.broken],
        "lazy": [{"path": x.path, "line": x.line, "column": x.column, "importer": x.importer,
                  "imported": x.imported, "chain": list(x.chain)} for x in plan.lazy],
        "references": [{"path": r.path, "line": r.line, "text": r.text, "why": r.why} for r in plan.references],
        "table_entries": [{"path": e.path, "line": e.line, "last_line": e.last, "table": e.table, "key": e.key,
                           "value": e.value, "removable": e.whole, "feeds": e.loader} for e in plan.table_entries],
        "cannot_fail": [{"path": r.path, "line": r.line, "text": r.text, "why": r.why, "at_import": r.at_import,
                         "when": r.when} for r in plan.cannot_fail],
        "guarded": [{"path": r.path, "line": r.line, "text": r.text, "why": r.why} for r in plan.guarded],
        "unknown": [{"path": r.path, "line": r.line, "text": r.text, "why": r.why, "at_import": r.at_import,
                     "when": r.when} for r in plan.unknown],
    }
    if verification is not None:
        v = verification
        data["verify"] = {
            "modules": len(v.after.outcomes),
            "forked": v.after.forked,
            "failing_anyway": v.failing_anyway,
            "broken": v.broken,
            "predicted_and_broken": v.predicted_and_broken,
            "predicted_but_fine": v.predicted_but_fine,
            "broken_not_predicted": v.broken_not_predicted,
            "predicted_failing_anyway": v.predicted_failing_anyway,
            "ok": len(v.ok),
            "timed_out": [{"module": m, "seconds": s, "sweep": w} for m, (s, w) in v.timed_out.items()],
            "left_out": [{"path": p, "why": w} for p, w in v.left_out],
            "unknown_sites": [
                {"path": path, "line": line,
                 "loaded": [{"module": x.module, "ok": x.ok, "in_scope": x.in_scope, "sweep": x.sweep} for x in loads]}
                for (path, line), loads in v.site_loads.items()],
        }
    return data

