"""`scopeguard rule [CODE]`: print a rule's documentation, or list all rules."""

from __future__ import annotations

import argparse

from .common import EXIT_CLEAN, UsageError

NAME = "rule"
HELP = "print a rule's documentation, or list all rules"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="a rule code such as SG201, or a rule name")


def run(args: argparse.Namespace) -> int:
    from ..rules import CATALOGUE as ALL_RULES  # tree rules and the change rules (SG5xx, with --diff)
    from ..rules import RULES_BY_CODE

    code = args.code
    if code is None:
        for rule in ALL_RULES:
            print(f"{rule.code}  {rule.name:<28} {rule.severity.value:<8} {rule.summary}")
        return EXIT_CLEAN
    rule = RULES_BY_CODE.get(code.upper()) or next((r for r in ALL_RULES if r.name == code), None)
    if rule is None:
        import difflib

        names = list(RULES_BY_CODE) + [r.name for r in ALL_RULES]
        near = difflib.get_close_matches(code, names, n=1)
        hint = f"; did you mean {near[0]}?" if near else "; `scopeguard rule` lists them"
        raise UsageError(f"unknown rule {code!r}{hint}")
    print(rule.documentation(), end="")
    return EXIT_CLEAN
