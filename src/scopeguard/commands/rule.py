"""`scopeguard rule [CODE]`: print a rule's documentation, list all rules or a family (`rule SG2`),
or write the rule pages of docs/rules/ (`rule --write-docs DIR`), generated from the same text."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_CLEAN, UsageError

NAME = "rule"
HELP = "print a rule's documentation, or list all rules (or one family: `rule SG2`)"
EPILOG = """\
examples:
  scopeguard rule                # every rule: code, name, severity, summary
  scopeguard rule SG2            # the SG2xx family
  scopeguard rule SG201          # one rule: what it does, why, how to fix, examples
  scopeguard rule unguarded-import

exit codes: 0 printed, 2 unknown rule or family"""

DOCS_FOLDER = "docs/rules"  # in the repository; SARIF's helpUri and the text report point here


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="a rule code such as SG201, a family such as SG2, or a rule name")
    parser.add_argument("--write-docs", metavar="DIR", help=argparse.SUPPRESS)  # regenerates docs/rules


def run(args: argparse.Namespace) -> int:
    from ..rules import CATALOGUE as ALL_RULES  # tree rules and the change rules (SG5xx, with --diff)
    from ..rules import RULES_BY_CODE

    if args.write_docs:
        written = write_docs(Path(args.write_docs))
        print(f"wrote {len(written)} page(s) to {args.write_docs}")
        return EXIT_CLEAN
    code = args.code
    if code is None:
        _list(ALL_RULES)
        return EXIT_CLEAN
    rule = RULES_BY_CODE.get(code.upper()) or next((r for r in ALL_RULES if r.name == code), None)
    if rule is None:
        family = [r for r in ALL_RULES if r.code.startswith(code.upper())] if code.upper().startswith("SG") else []
        if family:
            _list(family)
            return EXIT_CLEAN
        import difflib

        names = list(RULES_BY_CODE) + [r.name for r in ALL_RULES]
        near = difflib.get_close_matches(code, names, n=1)
        hint = f"; did you mean {near[0]}?" if near else "; `scopeguard rule` lists them"
        raise UsageError(f"unknown rule {code!r}{hint}")
    print(rule.documentation(), end="")
    return EXIT_CLEAN


def _list(rules) -> None:
    for rule in rules:
        print(f"{rule.code}  {rule.name:<28} {rule.severity.value:<8} {rule.summary}")


def rule_page(rule) -> str:
    """The Markdown page of one rule: its documentation as `scopeguard rule CODE` prints it."""
    doc = rule.documentation()
    title, _, body = doc.partition("\n")
    return (
        f"<!-- Generated from the rule's documentation by `scopeguard rule --write-docs docs/rules`; do not edit. -->\n"
        f"# {title}\n\n{rule.summary[0].upper() + rule.summary[1:]}.\n{body.replace(chr(10) + '## ', chr(10) + '### ')}"
    )


def index_page(rules) -> str:
    lines = [
        "<!-- Generated from the rules' documentation by `scopeguard rule --write-docs docs/rules`; do not edit. -->",
        "# Rules",
        "",
        "Each page is what `scopeguard rule CODE` prints. `scopeguard rule SG2` lists a family.",
        "",
        "| code | name | severity | what it reports |",
        "|---|---|---|---|",
    ]
    for rule in rules:
        summary = rule.summary.replace("|", "\\|")
        lines.append(f"| [{rule.code}]({rule.code}.md) | {rule.name} | {rule.severity.value} | {summary} |")
    return "\n".join(lines) + "\n"


def expected_pages() -> dict[str, str]:
    """file name -> content of every page docs/rules/ must hold."""
    from ..rules import CATALOGUE

    rules = sorted(CATALOGUE, key=lambda r: r.code)
    pages = {f"{rule.code}.md": rule_page(rule) for rule in rules}
    pages["README.md"] = index_page(rules)
    return pages


def write_docs(folder: Path) -> list[str]:
    from ..base.safeio import write_file

    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in expected_pages().items():
            write_file(folder / name, text)  # an exclusive temporary file renamed into place
    except OSError as error:
        raise UsageError(f"{folder}: cannot write the rule pages: {error.strerror or error}") from None
    return sorted(expected_pages())
