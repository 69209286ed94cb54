"""`scopeguard delete-plan SCOPE`: what deleting a scope takes and what it breaks, optionally
checked for real (`--verify`) by deleting it in a temporary copy and importing every module."""

from __future__ import annotations

import argparse
import os
import sys

from .common import (
    EXIT_CLEAN,
    EXIT_VIOLATIONS,
    UsageError,
    add_project_arguments,
    collect_facts,
    load_config,
)

NAME = "delete-plan"
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C
HELP = "simulate deleting a scope: files to remove, modules it breaks (with chains), edits elsewhere"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scope", help="the registered scope to delete, e.g. tvm.contrib.msc")
    add_project_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("--toggle-off", metavar="TOGGLE", action="append", default=[],
                        help="assume this toggle off as well as the scope's own (repeatable)")
    parser.add_argument("--verify", action="store_true",
                        help="delete the scope in a temporary copy and import every remaining module, "
                             "before and after, to compare with the prediction")
    parser.add_argument("--env", metavar="NAME=VALUE", action="append", default=[],
                        help="environment for the --verify imports, e.g. TVM_USE_MSC=0 (repeatable)")
    parser.add_argument("--python", metavar="PATH", help="interpreter for the --verify imports (default: this one)")
    parser.add_argument("--timeout", metavar="S", type=float, default=60.0,
                        help="seconds allowed for one module's import under --verify (default: 60)")


def run(args: argparse.Namespace) -> int:
    from .. import pipeline
    from ..core import Reference, simulate_deletion
    from ..model import UnknownScope
    from ..packaging import references

    config = load_config(args)
    try:
        scope = config.scope_named(args.scope)
    except UnknownScope as error:
        raise UsageError(str(error)) from None
    unknown = [t for t in args.toggle_off if config.toggle(t) is None]
    if unknown:
        raise UsageError(f"unknown toggle(s) for --toggle-off: {', '.join(unknown)}")
    env = _parse_env(args.env)
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, not {args.timeout}")
    if args.python and not (os.path.isfile(args.python) and os.access(args.python, os.X_OK)):
        raise UsageError(f"--python {args.python}: not an executable file")

    facts = collect_facts(args, config)
    project = pipeline.context(config, facts)
    packaging = [Reference(r.path, r.line, r.text, r.why) for r in references(facts.build.packaging, scope)]
    plan = simulate_deletion(project.graph, scope, toggles_off=args.toggle_off, references=packaging)
    sizes = _line_counts(config.root, plan.deleted_paths)

    verification = None
    if args.verify:
        from ..verify import verify_deletion

        deleted = set(plan.deleted_modules)
        remaining = [f.module for f in project.graph.files.values() if not f.extra and f.module not in deleted]
        predicted = [b.module for b in plan.broken if not b.extra]
        try:
            verification = verify_deletion(config, scope, remaining, predicted, python=args.python, env=env,
                                           timeout=args.timeout, jobs=args.jobs)
        except (OSError, RuntimeError) as error:
            raise UsageError(f"--verify could not run: {error}") from None
        except KeyboardInterrupt:
            print("scopeguard: interrupted; the temporary copy was removed", file=sys.stderr)
            return EXIT_INTERRUPTED

    if args.format == "json":
        import json

        print(json.dumps(_as_json(config, plan, sizes, verification), indent=2))
    else:
        print(_as_text(config, plan, sizes, verification))
    broke = verification.broken if verification is not None else None
    return EXIT_CLEAN if plan.clean and not broke else EXIT_VIOLATIONS


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
    from ..verify import deletion_targets

    return deletion_targets(config, plan.scope)


def _as_text(config, plan, sizes, verification) -> str:
    from ..core import format_chain
    from ..paths import under

    scope = plan.scope
    off = ", ".join(plan.toggles_off) or "none (the scope has no toggle)"
    out = [f"Deleting scope {scope.name} (toggles assumed off: {off})", ""]
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
        out.append(f"  {where}: {format_chain(b.chain)}")
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
    out.append(f"Guarded imports left behind (nothing breaks; tidy them with the deletion): {len(plan.guarded)}")
    for ref in plan.guarded:
        out.append(f"  {ref.path}:{ref.line}: {ref.text} -- {ref.why}")
    if verification is not None:
        out += ["", *_verification_text(verification)]
    out.append("")
    if plan.clean and not (verification and verification.broken):
        out.append(f"Clean: deleting {', '.join(_targets(config, plan))} is all it takes.")
    else:
        out.append(f"Not clean: {len(plan.broken)} broken at import time, {len(plan.lazy)} call site(s), "
                   f"{len(plan.references)} edit(s) elsewhere.")
    return "\n".join(out)


def _verification_text(v) -> list[str]:
    how = "forked after importing the top-level package" if v.after.forked else "one interpreter per module"
    out = [f"Verified by importing {len(v.after.outcomes)} module(s) in a copy, before and after the deletion ({how}):",
           f"  fail anyway (before the deletion too): {len(v.failing_anyway)}",
           f"  broken by the deletion: {len(v.broken)}",
           f"  predicted and broken: {len(v.predicted_and_broken)}",
           f"  predicted but fine: {len(v.predicted_but_fine)}",
           f"  broken but not predicted: {len(v.broken_not_predicted)}"]
    for module in v.predicted_but_fine:
        out.append(f"    predicted but fine: {module}")
    for module in v.broken_not_predicted:
        out.append(f"    broken but not predicted: {module}: {v.broken[module]}")
    return out


def _as_json(config, plan, sizes, verification) -> dict:
    data = {
        "scope": plan.scope.name,
        "toggles_off": list(plan.toggles_off),
        "clean": plan.clean and not (verification and verification.broken),
        "delete": {
            "targets": _targets(config, plan),
            "files": [{"path": p, "lines": sizes[p]} for p in plan.deleted_paths],
            "modules": list(plan.deleted_modules),
            "lines": sum(sizes.values()),
        },
        "broken": [{"module": b.module, "path": b.path, "line": b.line, "column": b.column,
                    "chain": list(b.chain), "extra": b.extra} for b in plan.broken],
        "lazy": [{"path": x.path, "line": x.line, "column": x.column, "importer": x.importer,
                  "imported": x.imported, "chain": list(x.chain)} for x in plan.lazy],
        "references": [{"path": r.path, "line": r.line, "text": r.text, "why": r.why} for r in plan.references],
        "guarded": [{"path": r.path, "line": r.line, "text": r.text, "why": r.why} for r in plan.guarded],
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
        }
    return data

