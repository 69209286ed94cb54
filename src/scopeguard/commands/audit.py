"""`scopeguard audit [SCOPE ...]`: the S0 readiness report for an RFC thread or a pull request — TVM's
admission criteria as a checklist with verdicts and evidence, and the minimal guard plan.

The analysis is `scopeguard.audit`'s; this module picks the scopes, gathers the inputs (findings,
deletion plans, `--diff`) and words the three formats. The JSON format is documented by
docs/audit-json-schema.json.
"""

from __future__ import annotations

import argparse
import re

from ..base.text import printable
from .common import EXIT_CLEAN, EXIT_VIOLATIONS, UsageError, add_project_arguments, collect_facts

NAME = "audit"
HELP = "the S0 readiness checklist of scopes (or any package), with evidence and a minimal guard plan"
EPILOG = """\
examples:
  scopeguard audit                                   # every registered scope
  scopeguard audit tvm.relax --format markdown       # paste into an RFC thread or a PR comment
  scopeguard audit tvm.relax.frontend.onnx --toggle relax   # any package, judged with a toggle
  scopeguard audit tvm.contrib.msc --diff origin/main --format json

The criteria are TVM's for S0 modules: isolated, needed by users (not checkable: said so),
no disruptive change, easily deprecated, turned off by a toggle, and (with --diff) changes to
existing modules kept separate. A package that is not a registered scope is judged as if it were
one (see `delete-plan`). The project folder, if given, comes right after the scopes, before the
options: `scopeguard audit tvm.relax path/to/tvm --format markdown`.

exit codes: 0 every checkable criterion holds, 1 one fails or is unknown, 2 usage error"""

FORMATS = ("text", "markdown", "json")
SCHEMA_VERSION = 1
MARKDOWN_ITEMS = 40  # items shown per criterion: a PR comment holds 65,536 characters


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scopes", nargs="*", metavar="SCOPE",
                        help="scopes or packages to audit (default: every registered scope); "
                             "a last argument that is a folder is the project")
    add_project_arguments(parser)
    parser.add_argument("--toggle", metavar="TOGGLE",
                        help="for packages that are not registered scopes: the configured toggle assumed to guard them")
    parser.add_argument("--diff", metavar="BASE",
                        help="also judge the change since BASE (git): edits to existing modules kept apart (SG501/SG502)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")


def _split_project(args: argparse.Namespace) -> None:
    """`audit tvm.relax path/to/project`: SCOPE... and PROJECT share the positional arguments."""
    from .delete_plan import _dotted

    scopes = list(args.scopes)
    if args.project == "." and scopes and not _dotted(scopes[-1]):
        args.project = scopes.pop()
    for name in scopes:
        if not _dotted(name):
            raise UsageError(f"{name!r} is not a dotted package name such as tvm.contrib.msc "
                             "(the project folder, if given, comes last)")
    args.scopes = list(dict.fromkeys(scopes))


def run(args: argparse.Namespace) -> int:
    from ..run import pipeline
    from ..actions.audit import audit_scope
    from ..analysis import Reference, simulate_deletion
    from ..collect.packaging import references
    from .delete_plan import _ad_hoc_scope, _config, _line_counts

    _split_project(args)
    config = _config(args)
    if args.toggle is not None and config.toggle(args.toggle) is None:
        known = ", ".join(t.name for t in config.toggles) or "none configured"
        raise UsageError(f"--toggle {args.toggle}: no such toggle (toggles: {known})")
    registered = {s.name: s for s in config.scopes}
    names = args.scopes or list(registered)
    if not names:
        raise UsageError("no scope registered in the configuration: name the package(s) to audit, "
                         "e.g. `scopeguard audit mypkg.plugin --toggle NAME`")
    for name in names:
        scope = registered.get(name)
        if scope is not None and args.toggle is not None and args.toggle != scope.toggle:
            raise UsageError(f"--toggle: {name} is a registered scope with toggle {scope.toggle or '(none)'}; "
                             "change it in the configuration")

    facts = collect_facts(args, config)
    contexts: dict[int, tuple] = {}  # id(config) -> (config, project, findings, change findings)

    def context_of(cfg):
        if id(cfg) not in contexts:
            project = pipeline.context(cfg, facts)
            contexts[id(cfg)] = (cfg, project, pipeline.violations(project), _change_findings(args, cfg))
        return contexts[id(cfg)]

    audits = []
    for name in names:
        if name in registered:
            cfg, scope = config, registered[name]
        else:
            cfg, scope = _ad_hoc_scope(config, name, args.toggle, facts)
        cfg, project, findings, changed = context_of(cfg)
        packaging = [Reference(r.path, r.line, r.text, r.why) for r in references(facts.build.packaging, scope)]
        plan = simulate_deletion(project.graph, scope, references=packaging)
        sizes = _line_counts(config.root, plan.deleted_paths)
        audits.append(audit_scope(project, scope, findings, plan, registered=name in registered, sizes=sizes,
                                  change_findings=changed))

    if args.format == "json":
        import json

        print(json.dumps(as_json(audits, args.diff), indent=2))
    elif args.format == "markdown":
        print(as_markdown(audits, args.diff), end="")
    else:
        print(as_text(audits), end="")
    return EXIT_CLEAN if all(a.holds for a in audits) else EXIT_VIOLATIONS


def _change_findings(args: argparse.Namespace, config):
    if not args.diff:
        return None
    from ..run.changes import GitError, check_diff
    from .common import open_cache

    try:
        return list(check_diff(config, args.diff, ["SG5"], cache=open_cache(args, config), jobs=args.jobs).violations)
    except GitError as error:
        raise UsageError(str(error)) from None


# ---- wording ---------------------------------------------------------------------------------

_MARK = {"holds": "✅", "fails": "❌", "unknown": "❓", "not checkable": "➖", "not run": "⏭️"}


def _overall(audits) -> str:
    failing = [(a.scope.name, c) for a in audits for c in a.criteria if c.checkable and c.verdict.value != "holds"]
    if not failing:
        return "every checkable criterion holds"
    fails = sum(1 for _, c in failing if c.verdict.value == "fails")
    unknown = len(failing) - fails
    return f"{fails} criterion(s) fail, {unknown} unknown"


def _plan_lines(plan) -> list[str]:
    """The guard plan, as text lines (shared by the text and Markdown forms)."""
    if not plan.loaded_before:
        return ["nothing to guard: `import <root>` does not load the scope with the toggle off"]
    if not plan.cuttable:
        return ["no set of import statements stops it: the scope is loaded through package links only"]
    out = [f"guard {len(plan.statements)} statement(s) (of {plan.direct} import statement(s) of the scope outside "
           f"that run with the toggle off); verified by re-running the reachability: "
           f"{'the scope is no longer loaded' if plan.verified else 'STILL LOADED (report this)'}"]
    return out


def as_text(audits) -> str:
    out = []
    for a in audits:
        scope = a.scope
        how = "registered scope" if a.registered else "package judged as a scope"
        out.append(f"Audit of {scope.name} ({how}, toggle {scope.toggle or '(none)'})")
        for number, c in enumerate(a.criteria, 1):
            out.append(f"  {number}. [{c.verdict.value}] {c.title}: {c.summary}")
            for item in c.items:
                where = f"{item.path}:{item.line}" if item.line else item.path
                out.append(f"       {where}: {item.kind}: {item.text}")
        out.append("  Guard plan: " + _plan_lines(a.plan)[0])
        for s in a.plan.statements:
            out.append(f"       {s.path}:{s.line}: {s.text}{_shared(s)}")
        if a.plan.chokepoints:
            out.append(f"  Chokepoints (every chain passes through): {', '.join(a.plan.chokepoints)}")
        if a.plan.also_unloads:
            out.append(f"  The plan also stops `import <root>` loading (lines others need): {', '.join(a.plan.also_unloads)}")
        if a.plan.every_module:
            out.append(f"  To stop every outside module loading it on its own, also guard {len(a.plan.every_module)}:")
            for s in a.plan.every_module:
                out.append(f"       {s.path}:{s.line}: {s.text}")
        out.append("")
    out.append(f"Audit: {_overall(audits)}.")
    return "".join(printable(line) + "\n" for line in out)  # names from the tree: one line each, nothing acted on


# Characters Markdown would act on, as entities: text from the tree can neither add HTML, break a
# table cell, nor turn `__init__` into bold (GitHub parses emphasis inside inline <code> too).
_ENTITIES = {c: f"&#{ord(c)};" for c in "\\`*_[]~|!#"}
# What a PR comment acts on even as plain text (entities are decoded before GitHub looks): `@name`
# pings, `#12` and `owner/repo#12` cross-reference, `scheme://`, `www.` and `a@b.c` link out. A
# word joiner (U+2060, invisible) after `@` and `#`, and before the `.` of `www.` and the `:` of
# `scheme://`, `mailto:` and `xmpp:`, breaks each pattern; the text reads the same.
_WJ = "\u2060"
_LINKS = re.compile(r"(?i)(?<=www)(?=\.)|(?=://)|(?<=mailto)(?=:)|(?<=xmpp)(?=:)")
_MENTIONS = re.compile(r"(?<=@)|(?<=&#35;)")  # GitHub looks for these outside <code> only


def _md(text: str, code: bool = False) -> str:
    """Text safe in a Markdown table cell or <details>: on one line, nothing a terminal acts on
    (`printable`), HTML-escaped, no Markdown, no mention, reference or autolink (the one place tree
    text enters the Markdown)."""
    import html  # only when Markdown is written: not on `check`'s path (the CLI imports every command)

    escaped = html.escape(printable(re.sub(r"[ \t\n\r\f\v]+", " ", str(text))), quote=False)
    out = _LINKS.sub(_WJ, "".join(_ENTITIES.get(c, c) for c in escaped))
    return out if code else _MENTIONS.sub(_WJ, out)


def _code(text: str) -> str:
    return "<code>" + _md(str(text).strip(), code=True) + "</code>"


def _rich(text: str) -> str:
    """scopeguard's wording, its `code` spans as <code>, everything else escaped."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: no spans
        return _md(text)
    return "".join(_code(part) if i % 2 else _md(part) for i, part in enumerate(parts))


def as_markdown(audits, diff_base: str | None = None) -> str:
    out = []
    for a in audits:
        scope = a.scope
        how = "" if a.registered else " (a package judged as a scope)"
        out += [f"### S0 audit: {_code(scope.name)}{how}", ""]
        out += [f"Toggle: {_code(scope.toggle) if scope.toggle else '**none**'} · {a.files} file(s), {a.lines} line(s)"
                + (f" · change since {_code(diff_base)}" if diff_base else ""), ""]
        out += ["| # | Criterion | Verdict | Summary |", "|---|---|---|---|"]
        for number, c in enumerate(a.criteria, 1):
            out.append(f"| {number} | {_md(c.title)} | {_MARK[c.verdict.value]} {c.verdict.value} | {_rich(c.summary)} |")
        out.append("")
        for number, c in enumerate(a.criteria, 1):
            extra = _toggle_details(a) if c.key == "toggle" else []
            if not c.items and not extra:
                continue
            out += [f"<details><summary>{number}. {_md(c.title)}: {c.verdict.value} ({len(c.items)} item(s))</summary>", ""]
            for item in c.items[:MARKDOWN_ITEMS]:
                where = f"{item.path}:{item.line}" if item.line else item.path
                out.append(f"- {_code(where)} {_md(item.kind)}: {_rich(item.text)}")
            if len(c.items) > MARKDOWN_ITEMS:
                out.append(f"- … and {len(c.items) - MARKDOWN_ITEMS} more (<code>--format json</code> lists them all)")
            if extra:
                out += ["" if c.items else "", *extra]
            out += ["", "</details>", ""]
    out += [f"**Audit: {_overall(audits)}.** Generated by `scopeguard audit`.", ""]
    return "\n".join(out)


def _toggle_details(a) -> list[str]:
    plan = a.plan
    out = ["**Guard plan** (minimum cut of the import-time graph, toggle off): " + _rich(_plan_lines(plan)[0])]
    if a.root_chain:
        out.append(f"- loaded today through: {_code(' -> '.join(a.root_chain))}")
    for s in plan.statements:
        out.append(f"- guard {_code(f'{s.path}:{s.line}')}: {_code(s.text)}{_md(_shared(s))}")
    if plan.chokepoints:
        out.append(f"- chokepoints (every chain passes through): {', '.join(_code(c) for c in plan.chokepoints)}")
    if plan.also_unloads:
        out.append("- the plan guards lines other code needs: <code>import &lt;root&gt;</code> also stops loading "
                   + ", ".join(_code(m) for m in plan.also_unloads))
    if plan.every_module:
        out.append(f"- to stop every outside module loading the scope on its own, also guard {len(plan.every_module)}: "
                   + ", ".join(_code(f"{s.path}:{s.line}") for s in plan.every_module[:MARKDOWN_ITEMS])
                   + (" …" if len(plan.every_module) > MARKDOWN_ITEMS else ""))
    return out


def _items(items) -> list[dict]:
    return [{"kind": i.kind, "path": i.path, "line": i.line, "text": i.text} for i in items]


def _statements(statements) -> list[dict]:
    return [{"path": s.path, "line": s.line, "importer": s.importer, "text": s.text, "loads": list(s.loads),
             "also_on_line": list(s.also_on_line)} for s in statements]


def _shared(s) -> str:
    return f" (the line also imports {', '.join(s.also_on_line)}: split it)" if s.also_on_line else ""


def as_json(audits, diff_base: str | None = None) -> dict:
    scopes = []
    for a in audits:
        d = a.deletion
        scopes.append({
            "scope": a.scope.name,
            "registered": a.registered,
            "toggle": a.scope.toggle,
            "holds": a.holds,
            "criteria": [{"key": c.key, "title": c.title, "verdict": c.verdict.value, "summary": c.summary,
                          "items": _items(c.items)} for c in a.criteria],
            "size": {"files": a.files, "lines": a.lines},
            "reach_in": dict(a.kinds),
            "guarded_imports": a.guarded,
            "deletion": {"clean": bool(d.clean), "files": len(d.deleted_paths), "broken": len(d.broken),
                         "lazy": len(d.lazy), "references": len(d.references), "guarded": len(d.guarded)},
            "switch": {"cmake": a.switch.cmake,
                       "cmake_options": [{"name": i.text, "path": i.path, "line": i.line} for i in a.switch.options],
                       "environment": [{"name": i.text, "path": i.path, "line": i.line} for i in a.switch.environment]},
            "root_loads": bool(a.root_chain),
            "root_chain": list(a.root_chain),
            "guard_plan": _statements(a.plan.statements),
            "guard": {"loaded_before": a.plan.loaded_before, "cuttable": a.plan.cuttable, "verified": a.plan.verified,
                      "direct_statements": a.plan.direct, "chokepoints": list(a.plan.chokepoints),
                      "also_unloads": list(a.plan.also_unloads), "every_module": _statements(a.plan.every_module)},
        })
    return {"version": SCHEMA_VERSION, "diff_base": diff_base, "holds": all(a.holds for a in audits), "scopes": scopes}

