#!/usr/bin/env python3
"""Corpus run (issue 8, point 1): scopeguard over real trees must never crash and never lose a file.

For each target tree the script counts the `.py` files itself (os.walk, no scopeguard code), runs
the installed `scopeguard check` on the tree twice (cold, then warm from the cache), and checks:

- no crash: exit code 0 or 1, no traceback on stderr, no "internal error while scanning" finding;
- every file found is either analysed or reported: analysed == found - reported, where "reported"
  counts the SG001 findings, each of which must name the file and give a reason;
- the SG001 count equals the "could not be parsed" count of the summary line;
- the warm run prints exactly what the cold run printed.

Nothing is written into the target trees: the project is a scratch folder holding a throwaway
pyproject.toml, a symlink `tree` to the folder that holds the target, and the cache. The targets:

- `stdlib`: CPython's standard library as installed (`sysconfig.get_paths()["stdlib"]`), test/
  included, site-packages excluded;
- `NAME=DIR`: a package folder such as a wheel installed in a scratch venv; its parent folder is
  the source root and every sibling of the package is excluded, so modules keep their real names.

Usage (from the repo root):

    nice -n 10 python3 bench/corpus.py --target stdlib \
        --target tvm=/work/scratch/tvmenv/lib/python3.11/site-packages/tvm \
        --target torch=/work/scratch/torchenv/lib/python3.11/site-packages/torch \
        --scopeguard /work/venv/bin/scopeguard --json bench/results/corpus.json

Exits 0 when every target passes, 1 otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from pathlib import Path

FINDING = re.compile(r"^(?P<path>.*?):(?P<line>\d+):(?P<col>\d+): (?P<code>SG\d{3}) (?P<message>.*)$")
SUMMARY = re.compile(r"(?P<analysed>\d+) file\(s\) analysed(?:, (?P<unparsed>\d+) could not be parsed)?\.$")
INTERNAL = "internal error while scanning"
GLOB_CHARS = set("*?[]")


def count_python_files(top: Path, excluded: set[str]) -> list[str]:
    """Every `*.py` file below `top` that is a file (or a link to one), as paths relative to `top`.

    Deliberately independent of scopeguard's discovery: no hidden-folder, cache-folder or venv
    rules, only the exclusions that the throwaway config also makes (`excluded`: top-level names).
    """
    found = []
    for folder, dirnames, filenames in os.walk(top, followlinks=False):
        relative = os.path.relpath(folder, top)
        if relative == ".":
            dirnames[:] = [d for d in dirnames if d not in excluded]
        for name in filenames:
            if name.endswith(".py") and name != ".py" and (relative != "." or name not in excluded):
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    found.append(os.path.normpath(os.path.join(relative, name)))
    return sorted(found)


def make_project(workdir: Path, name: str, target: Path, is_stdlib: bool) -> tuple[Path, Path, set[str]]:
    """A scratch project whose source root `tree` links to the folder holding the target."""
    project = workdir / name
    project.mkdir(parents=True)
    holder = target if is_stdlib else target.parent
    (project / "tree").symlink_to(holder, target_is_directory=True)
    if is_stdlib:
        excluded = {"site-packages"}
    else:
        excluded = {entry for entry in os.listdir(holder) if entry != target.name}
    bad = sorted(e for e in excluded if GLOB_CHARS & set(e))
    if bad:
        raise SystemExit(f"cannot write an exclude pattern for {bad}: glob characters in the name")
    patterns = ",\n".join(f"    {json.dumps('tree/' + entry)}" for entry in sorted(excluded))
    (project / "pyproject.toml").write_text(
        "# written by bench/corpus.py; the tree is read only\n"
        "[tool.scopeguard]\n"
        'source_roots = ["tree"]\n'
        f"exclude = [\n{patterns}\n]\n",
        encoding="utf-8",
    )
    return project, holder, excluded


def run_check(command: list[str], project: Path, cache: Path) -> dict:
    argv = [*command, "check", str(project), "--cache-dir", str(cache)]
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = child.communicate()
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "argv": argv,
        "exit": child.returncode,
        "stdout": stdout.decode("utf-8", "backslashreplace"),
        "stderr": stderr.decode("utf-8", "backslashreplace"),
        "wall_s": round(wall, 2),
        "max_rss_mb_so_far": round(usage.ru_maxrss / 1024),
    }


def judge(name: str, target: Path, found: list[str], cold: dict, warm: dict) -> dict:
    lines = cold["stdout"].splitlines()
    findings = [m.groupdict() for line in lines if (m := FINDING.match(line))]
    summary = SUMMARY.search(lines[-1]) if lines else None
    problems = []
    if cold["exit"] not in (0, 1):
        problems.append(f"cold run exited {cold['exit']}")
    if warm["exit"] != cold["exit"]:
        problems.append(f"warm run exited {warm['exit']}, cold {cold['exit']}")
    for run, label in ((cold, "cold"), (warm, "warm")):
        if "Traceback" in run["stderr"]:
            problems.append(f"{label} run printed a traceback:\n{run['stderr'][-3000:]}")
        if INTERNAL in run["stdout"]:
            problems.append(f"{label} run reported an internal scanner error")
    if warm["stdout"] != cold["stdout"]:
        problems.append("the warm (cached) run printed something else than the cold run")
    if summary is None:
        problems.append(f"no summary line; last line: {lines[-1] if lines else '(none)'!r}")
        analysed = unparsed = -1
    else:
        analysed = int(summary["analysed"])
        unparsed = int(summary["unparsed"] or 0)
    unparsable = [f for f in findings if f["code"] == "SG001"]
    for f in unparsable:
        path_named = f["message"].startswith(f"cannot analyse {f['path']}: ")
        reason = f["message"].partition(": ")[2]
        if not path_named or not reason.strip():
            problems.append(f"SG001 without path or reason: {f}")
    if len(unparsable) != unparsed:
        problems.append(f"{len(unparsable)} SG001 findings but the summary says {unparsed} could not be parsed")
    if analysed != len(found) - len(unparsable):
        problems.append(
            f"files analysed {analysed} != found {len(found)} - reported {len(unparsable)} "
            f"= {len(found) - len(unparsable)}"
        )
    reasons = Counter(_reason_kind(f["message"]) for f in unparsable)
    return {
        "target": name,
        "path": str(target),
        "found": len(found),
        "analysed": analysed,
        "reported_unparsable": len(unparsable),
        "other_findings": dict(Counter(f["code"] for f in findings if f["code"] != "SG001")),
        "unparsable_reasons": dict(reasons.most_common()),
        "unparsable_files": [f"{f['path']}:{f['line']}:{f['col']}: {f['message'].partition(': ')[2]}" for f in unparsable],
        "crashes": sum(1 for p in problems if "traceback" in p or "internal" in p or "exited" in p),
        "exit": cold["exit"],
        "cold_wall_s": cold["wall_s"],
        "warm_wall_s": warm["wall_s"],
        "stderr": cold["stderr"].strip(),
        "problems": problems,
        "ok": not problems,
    }


def _reason_kind(message: str) -> str:
    """The reason without its details: "SyntaxError: invalid syntax", "not valid UTF-8 ..."."""
    reason = message.partition(": ")[2]
    return reason.split(" (")[0].split("; ")[0][:80]


def explain_missing(project: Path, found: list[str], result: dict) -> list[str]:
    """When counts disagree: which found files scopeguard's discovery did not list, and why."""
    try:
        from scopeguard.config import load_config
        from scopeguard.collect.discover import discover
    except ImportError:
        return ["(scopeguard not importable here: cannot list the files)"]
    listed = {f.path.removeprefix("tree/") for f in discover(load_config(project / "pyproject.toml"))}
    return [path for path in found if path not in listed][:50]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", required=True,
                        help="`stdlib`, or NAME=DIR for a package folder (repeatable)")
    parser.add_argument("--scopeguard", default=shutil.which("scopeguard") or "",
                        help="the scopeguard executable (default: from PATH)")
    parser.add_argument("--workdir", help="scratch folder (default: a new temp folder, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--snapshot", action="store_true",
                        help="run a copy of the importable scopeguard package (taken at the start, with this "
                             "interpreter), so that edits to the working tree during the run do not matter")
    args = parser.parse_args(argv)
    command = [args.scopeguard] if args.scopeguard else [sys.executable, "-m", "scopeguard"]
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="scopeguard-corpus-"))
    workdir.mkdir(parents=True, exist_ok=True)
    snapshot_digest = ""
    if args.snapshot:
        import hashlib

        import scopeguard

        source = Path(scopeguard.__file__).parent
        shutil.copytree(source, workdir / "snapshot" / "scopeguard", ignore=shutil.ignore_patterns("__pycache__"))
        digest = hashlib.sha256()
        for path in sorted((workdir / "snapshot").rglob("*.py")):
            digest.update(path.read_bytes())
        snapshot_digest = digest.hexdigest()[:16]
        command = [sys.executable, "-m", "scopeguard"]
        os.environ["PYTHONPATH"] = str(workdir / "snapshot")
        print(f"snapshot of {source}: sha256 {snapshot_digest}", file=sys.stderr)
    results = []
    try:
        for spec in args.target:
            if spec == "stdlib":
                name, target, is_stdlib = "stdlib", Path(sysconfig.get_paths()["stdlib"]), True
            else:
                name, _, folder = spec.partition("=")
                target, is_stdlib = Path(folder), False
            target = target.resolve()
            project, holder, excluded = make_project(workdir, name, target, is_stdlib)
            found = count_python_files(holder, excluded)
            print(f"[{name}] {len(found)} .py files under {target}; checking...", file=sys.stderr, flush=True)
            cold = run_check(command, project, workdir / f"{name}-cache")
            warm = run_check(command, project, workdir / f"{name}-cache")
            result = judge(name, target, found, cold, warm)
            if result["analysed"] + result["reported_unparsable"] != result["found"]:
                result["not_listed"] = explain_missing(project, found, result)
            results.append(result)
            print(render(result), flush=True)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        meta = {"python": sys.version.split()[0], "scopeguard": command, "snapshot_sha256": snapshot_digest,
                "date": time.strftime("%Y-%m-%d")}
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["ok"] for r in results) else 1


def render(r: dict) -> str:
    lines = [
        f"== {r['target']}: {r['path']}",
        (f"   found {r['found']}, analysed {r['analysed']}, reported unparsable (SG001) {r['reported_unparsable']}, "
         f"crashes {r['crashes']}, exit {r['exit']}; cold {r['cold_wall_s']} s, warm {r['warm_wall_s']} s"),
        f"   analysed == found - reported: {r['analysed'] == r['found'] - r['reported_unparsable']}",
    ]
    if r["other_findings"]:
        lines.append(f"   other findings: {r['other_findings']}")
    for reason, count in r["unparsable_reasons"].items():
        lines.append(f"   {count:5d} x {reason}")
    for problem in r["problems"]:
        lines.append(f"   PROBLEM: {problem}")
    for path in r.get("not_listed", []):
        lines.append(f"   not listed by discovery: {path}")
    lines.append("   " + ("OK" if r["ok"] else "FAILED"))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
