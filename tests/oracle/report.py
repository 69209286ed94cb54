"""Print the oracle's per-family accuracy table (cases / correct / under / over) for today's
scopeguard:

    .venv/bin/python -m tests.oracle.report            # the table
    .venv/bin/python -m tests.oracle.report -v         # and every wrong answer, with the reasons
    .venv/bin/python -m tests.oracle.report --known    # the KNOWN table for tests/oracle/known.py
    .venv/bin/python -m tests.oracle.report -k handlers  # only cases whose id contains "handlers"
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from .cases import ALL
from .harness import grade_all, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.oracle.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="explain every wrong answer")
    parser.add_argument("-a", "--all", action="store_true", help="explain every case")
    parser.add_argument("-k", metavar="TEXT", help="only cases whose id contains TEXT")
    parser.add_argument("--known", action="store_true", help="print today's wrong answers as the KNOWN dict")
    args = parser.parse_args(argv)
    cases = [c for c in ALL if not args.k or args.k in c.id]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sg-oracle-") as work:
        grades = grade_all(cases, Path(work))
    elapsed = time.perf_counter() - start
    if args.verbose or args.all:
        for grade in grades.values():
            if args.all or grade.verdict != "correct":
                print(grade.explain())
        print()
    wrong_runtime = [g for g in grades.values() if g.observation.runtime != g.case.runtime]
    for grade in wrong_runtime:
        print(f"CASE ERROR {grade.case.id}: declared {grade.case.runtime}, Python did {grade.observation.runtime} "
              f"({grade.observation.detail})", file=sys.stderr)
    if args.known:
        print("KNOWN = {")
        for grade in grades.values():
            if grade.verdict != "correct":
                print(f'    "{grade.case.id}": "{grade.verdict.upper()}",')
        print("}")
    print(table(grades.values()))
    print(f"({len(cases)} cases x {len(__import__('tests.oracle.harness', fromlist=['STATES']).STATES)} OFF states x "
          f"present/deleted, {elapsed:.1f} s)")
    return 1 if wrong_runtime else 0


if __name__ == "__main__":
    sys.exit(main())
