"""Differential testing of scopeguard against CPython, long run (issue 24, point 3).

Generates N small projects (tests/differential/generator.py), runs each under CPython in every OFF
state of the toggle with the scope present and deleted, and through scopeguard's check and
delete-plan (tests/differential/judge.py), in parallel. Every project where scopeguard
under-reports is shrunk to a minimal counterexample, grouped by construct family, and the first of
each family is written to OUT/counterexamples/<n>/ (module files + expected.json). The summary goes
to OUT/summary.json and stdout.

    python bench/differential.py -n 1000 --jobs 2 --seed 1 --out bench/results/differential
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

from tests.differential.generator import from_json, generate, to_json  # noqa: E402
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


def main(argv: list[str] | None = None) -> int:
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
    summary = {
        "command": "python bench/differential.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seconds": round(time.perf_counter() - started, 1), **total,
        "under_reports_by_kind": dict(under), "over_reports_by_kind": dict(over),
        "under_report_rate_projects": round(total["under_projects"] / max(1, total["projects"]), 4),
        "over_report_rate_projects": round(total["over_projects"] / max(1, total["projects"]), 4),
        "families": summary_families,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "families"}, indent=2))
    for item in summary_families[:40]:
        print(f"{item['count']:5d}  {item['family']}  {item['kinds']}  {item['example']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
