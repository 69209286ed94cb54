"""Differential testing of scopeguard against CPython, long run (issue 24, point 3).

Generates N small projects (tests/differential/generator.py), runs each under CPython in every OFF
state of the toggle with the scope present and deleted, and through scopeguard's check and
delete-plan (tests/differential/judge.py), in parallel. Every project where scopeguard
under-reports is shrunk to a minimal counterexample, grouped by construct family, and the first of
each family is written to OUT/counterexamples/<n>/ (module files + expected.json). The summary goes
to OUT/summary.json and stdout.

    python bench/differential.py -n 1000 --jobs 2 --seed 1 --out bench/results/differential
    python bench/differential.py --pin bench/results/differential --max 60   # pin into tests/differential/cases

--pin copies the most frequent families' minimal counterexamples (then the smallest) into
tests/differential/cases/<rank>-<family>/, runs them again, and rewrites tests/differential/known.py:
KNOWN_UNDER (the pinned cases scopeguard under-reports) and KNOWN_UNSOUND_CONSTRUCTS (their
constructs other than guards, class bodies and early exits, which only carry the import).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.differential.generator import from_json, generate, to_json  # noqa: E402,F401
from tests.differential.judge import failure_key, family, run_projects, save_case, shrink  # noqa: E402

BATCH = 10


def _batch(args: tuple[int, int, int, int]) -> dict:
    seed, start, count, shrink_budget = args
    projects = [generate(random.Random(f"{seed}:{i}").choice) for i in range(start, start + count)]
    with tempfile.TemporaryDirectory(prefix="sg-diff-") as tmp:
        work = Path(tmp)
        results = run_projects(projects, work / "run")
        out = {"projects": len(results), "modules": 0, "under": Counter(), "over": Counter(), "loads": 0,
               "breaks": 0, "under_projects": 0, "over_projects": 0, "counterexamples": []}
        for number, result in zip(range(start, start + count), results):
            out["modules"] += len(result.modules)
            out["loads"] += sum(m.loads for m in result.modules)
            out["breaks"] += sum(m.breaks for m in result.modules)
            for m in result.modules:
                out["under"].update(m.under)
                out["over"].update(m.over)
            out["over_projects"] += bool(result.over)
            if not result.under:
                continue
            out["under_projects"] += 1
            key = failure_key(result)
            evaluations = [0]

            def still_fails(candidate, key=key, evaluations=evaluations):
                evaluations[0] += 1
                return failure_key(run_projects([candidate], work / f"shrink{evaluations[0]}")[0]) == key

            small = shrink(result.project, still_fails, budget=shrink_budget)
            final = run_projects([small], work / "final")[0]
            out["counterexamples"].append({
                "seed": f"{seed}:{number}", "kind": key, "family": family(small), "project": to_json(small),
                "original": to_json(result.project), "explain": final.explain(), "files": final.files,
                "expected": final.expected(), "shrink_evaluations": evaluations[0],
            })
    out["under"], out["over"] = dict(out["under"]), dict(out["over"])
    return out


CARRIERS = ("if[", "suppress[", "class-body[", "early-exit[")
KNOWN = ROOT / "tests" / "differential" / "known.py"


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:70].rstrip("-")


def _labels(node) -> set[str]:
    if node is None or node.kind in ("payload", "dep", "pass"):
        return set()
    return {f"{node.kind}[{node.arg}]" + ("@next" if node.where == "next" else ""), *_labels(node.child)}


def _causes(project) -> set[str]:
    """The constructs of a minimal counterexample other than those that only carry the import
    (guards, class bodies, early exits), or all of them when nothing else is left."""
    labels = set().union(*(_labels(item) for m in project.modules for item in m.items))
    causes = {label for label in labels if not label.startswith(CARRIERS)}
    return causes or labels or {"plain import"}


def pin(out: Path, limit: int) -> int:
    from tests.differential.judge import run_many
    from tests.test_differential import _project_labels

    summary = json.loads((out / "summary.json").read_text())
    families = summary["families"]
    chosen = [f for f in families if f["count"] >= 2][:limit]
    singles = sorted((f for f in families if f["count"] < 2), key=lambda f: (len(f["family"]), f["family"]))
    chosen += singles[: max(0, limit - len(chosen))]
    cases = ROOT / "tests" / "differential" / "cases"
    pinned = []
    for rank, item in enumerate(chosen, 1):
        source = out / item["example"]
        expected = json.loads((source / "expected.json").read_text())
        name = f"{rank:02d}-{_slug(item['family'].replace('import-scope', 'scope'))}"
        target = cases / name
        for path in source.rglob("*.py"):
            (target / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            (target / path.relative_to(source)).write_text(path.read_text())
        files = {str(p.relative_to(target)): p.read_text() for p in sorted(target.rglob("*.py"))}
        pinned.append((name, item, expected, files))
    with tempfile.TemporaryDirectory() as tmp:
        results = run_many([files for _, _, _, files in pinned], Path(tmp))
    known, constructs = {}, set()
    for (name, item, expected, _), result in zip(pinned, results):
        project = from_json(expected["project"])
        record = {"python": result.expected(), "family": item["family"], "count_in_run": item["count"],
                  "seed": item["seed"], "project": expected["project"],
                  "under": {m.module: list(m.under) for m in result.under}}
        (cases / name / "expected.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        if result.under:
            known[name] = item["family"]
            constructs |= {c.removesuffix("@next") for c in _causes(project)} & _project_labels(project)
    text = KNOWN.read_text()
    head = text[: text.index("\nKNOWN_UNDER:") + 1]
    body = "KNOWN_UNDER: dict[str, str] = {\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in known.items()) + "}\n\n"
    body += "KNOWN_UNSOUND_CONSTRUCTS: frozenset[str] = frozenset({\n" + "".join(
        f"    {c!r},\n" for c in sorted(constructs)) + "})\n"
    KNOWN.write_text(head + body)
    print(f"pinned {len(pinned)} cases, {len(known)} under-reported today, {len(constructs)} constructs tolerated")
    return 0


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--pin"]:
        limit = int(argv[argv.index("--max") + 1]) if "--max" in argv else 60
        return pin(Path(argv[1]), limit)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="projects to generate")
    parser.add_argument("--jobs", type=int, default=max(1, multiprocessing.cpu_count()))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shrink-budget", type=int, default=40, help="evaluations per counterexample")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "differential")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tasks = [(args.seed, start, min(BATCH, args.n - start), args.shrink_budget) for start in range(0, args.n, BATCH)]
    total: dict = {"projects": 0, "modules": 0, "loads": 0, "breaks": 0, "under_projects": 0, "over_projects": 0}
    under, over, families = Counter(), Counter(), {}
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for done, part in enumerate(pool.imap_unordered(_batch, tasks), 1):
            for key in total:
                total[key] += part[key]
            under.update(part["under"])
            over.update(part["over"])
            for example in part["counterexamples"]:
                entry = families.setdefault(example["family"], {"count": 0, "kind": Counter(), "example": example})
                entry["count"] += 1
                entry["kind"][example["kind"]] += 1
            print(f"\r{done}/{len(tasks)} batches, {total['projects']} projects, {total['under_projects']} under, "
                  f"{len(families)} families, {time.perf_counter() - started:.0f} s", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    out = args.out
    (out / "counterexamples").mkdir(parents=True, exist_ok=True)
    ranked = sorted(families.items(), key=lambda item: (-item[1]["count"], item[0]))
    summary_families = []
    for rank, (name, entry) in enumerate(ranked, 1):
        example = entry["example"]
        folder = out / "counterexamples" / f"{rank:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for path, text in example["files"].items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text, encoding="utf-8")
        (folder / "expected.json").write_text(json.dumps({
            "python": example["expected"], "family": name, "kind": example["kind"], "seed": example["seed"],
            "project": example["project"], "explain": example["explain"]}, indent=2) + "\n", encoding="utf-8")
        summary_families.append({"family": name, "count": entry["count"], "kinds": dict(entry["kind"]),
                                 "example": str(folder.relative_to(out)), "seed": example["seed"]})
    by_construct: dict[str, dict] = {}
    for item in summary_families:
        example = families[item["family"]]["example"]
        key = " + ".join(sorted(_causes(from_json(example["project"]))))
        group = by_construct.setdefault(key, {"constructs": key, "count": 0, "families": 0, "example": item["example"]})
        group["count"] += item["count"]
        group["families"] += 1
    summary = {
        "command": "python bench/differential.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seconds": round(time.perf_counter() - started, 1), **total,
        "under_reports_by_kind": dict(under), "over_reports_by_kind": dict(over),
        "under_report_rate_projects": round(total["under_projects"] / max(1, total["projects"]), 4),
        "over_report_rate_projects": round(total["over_projects"] / max(1, total["projects"]), 4),
        "by_construct": sorted(by_construct.values(), key=lambda g: -g["count"]),
        "families": summary_families,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "families"}, indent=2))
    for group in summary["by_construct"][:40]:
        print(f"{group['count']:5d}  {group['constructs']}  ({group['families']} families, e.g. {group['example']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
