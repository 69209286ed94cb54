#!/usr/bin/env python3
"""Time scopeguard against import-linter and tach on a real package (issue 3, point 5).

Standard library only; run it with any python3:

    python3 bench/run_bench.py --target .../site-packages/tvm \
        --scopeguard /work/venv/bin/scopeguard \
        --lint-imports .../bin/lint-imports --tach .../bin/tach --reps 5 --json out.json

What it does, all inside WORKDIR (a fresh temp folder unless --workdir; removed unless --keep):

1. copies the target package's `.py` files into WORKDIR/project/python/<pkg> (only folders that
   are reachable through `__init__.py` files, because that is all import-linter's grimp sees, so
   every tool analyses the same files; the repo and the target's venv are never touched);
2. writes equivalent configurations: `pyproject.toml` ([tool.scopeguard]), `.importlinter`
   (a `protected` contract: only the scope may import the scope) and `tach.toml` (the package
   module `cannot_depend_on` the scope module);
3. times each tool, whole process, in three scenarios with --reps repetitions each:
   cold (cache removed before every run), no-change (warm cache, nothing edited) and
   one-file-changed (a comment line appended to one mid-size module before every run); the
   repetitions of the tools are interleaved so that drift in the machine's speed hits all alike;
4. times the floor: libcst.parse_module over every file in one process;
5. prints a table (median, min-max, peak RSS) and the ratios named in the issue's targets.

Memory is taken three ways: ru_maxrss of the child from os.wait4 (the largest single process of
the tree, reaped worker processes included), and the sums of RSS and of PSS over the child's whole
process tree, sampled from /proc every --rss-sample-ms milliseconds. Forked workers share pages
with their parent; the RSS sum counts those once per process, the PSS sum splits them, so the PSS
sum is what the machine really holds. "peak MB" in the table is the larger of the PSS sum and the
largest process (a run too short for the sampler still has its ru_maxrss).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

# one-file: a comment appended (the file's facts stay as they were); one-file-import: an import of a
# standard module appended (its facts change, and with them what reachability reads).
SCENARIOS = ("cold", "no-change", "one-file", "one-file-import")
DEFAULT_SCOPES = ("tvm.relax", "torch._dynamo")

# Toggle spellings per known scope: (toggle name, key, spellings). Anything else gets a generic
# `USE_<LAST PART>` toggle; a toggle only changes which findings scopeguard reports, not its cost.
KNOWN_TOGGLES = {
    "tvm.relax": ("compiler", "on_when_false", ["_RUNTIME_ONLY", "TVM_USE_RUNTIME_LIB"]),
    "torch._dynamo": ("dynamo", "on_when_false", ["TORCHDYNAMO_DISABLE"]),
}

FLOOR_SCRIPT = r'''
import json, os, sys, time
t0 = time.perf_counter()
import libcst
t1 = time.perf_counter()
paths = [line.rstrip("\n") for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
sources = []
for p in paths:
    with open(p, "rb") as f:
        sources.append(f.read())
t2 = time.perf_counter()
failed = 0
for src in sources:
    try:
        libcst.parse_module(src)
    except Exception:
        failed += 1
t3 = time.perf_counter()
print(json.dumps({"files": len(sources), "failed": failed, "import_s": t1 - t0,
                  "read_s": t2 - t1, "parse_s": t3 - t2}))
'''


# --------------------------------------------------------------------------------------------
# running one child: wall time, exit code, peak RSS


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def _tree_mem_kb(root: int, page_kb: int) -> tuple[int, int]:
    """(RSS, PSS) summed over a process and its descendants, in KiB.

    RSS counts a page shared by forked workers once per process; PSS splits it between them, so
    the PSS sum is what the tree really holds. PSS is 0 where smaps_rollup is not readable.
    """
    rss = pss = 0
    todo, seen = [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss += int(f.read().split()[1]) * page_kb
        except (OSError, IndexError, ValueError):
            continue
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(_children(pid))
    return rss, pss


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class RunResult:
    seconds: float
    returncode: int
    cpu_s: float  # user + system time of the child and its reaped descendants
    others_cpu_s: float  # CPU the rest of the machine used meanwhile (other processes: noise)
    maxrss_kb: int  # ru_maxrss from wait4: the largest single process of the tree
    tree_rss_kb: int  # sampled peak of the RSS sum over the process tree (0: not sampled)
    tree_pss_kb: int  # sampled peak of the PSS sum over the process tree (0: not sampled)
    stdout_path: str
    stderr_path: str

    @property
    def peak_kb(self) -> int:
        """Peak memory: the tree's PSS sum, or the largest process if that is more (a run too
        short for the sampler to see)."""
        return max(self.maxrss_kb, self.tree_pss_kb)


def run_child(cmd: list[str], cwd: str, env: dict[str, str], log_prefix: str,
              sample_ms: float) -> RunResult:
    out_path, err_path = log_prefix + ".out", log_prefix + ".err"
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        busy0, self0 = _busy_cpu_s(), os.times()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        peak = [0, 0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                rss, pss = _tree_mem_kb(proc.pid, page_kb)
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
                done.wait(sample_ms / 1000.0)

        sampler = None
        if sample_ms > 0 and os.path.isdir("/proc"):
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        # wait4 reaps the child and returns its own rusage (including reaped grandchildren).
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        if sampler is not None:
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        self1 = os.times()
        cpu = usage.ru_utime + usage.ru_stime
        own = (self1.user - self0.user) + (self1.system - self0.system)
        others = max(0.0, _busy_cpu_s() - busy0 - cpu - own)
    return RunResult(seconds, proc.returncode, cpu, others, int(usage.ru_maxrss), peak[0], peak[1],
                     out_path, err_path)


def wait_quiet(limit_s: float, share: float = 0.10) -> float:
    """Wait until the machine is idle (other processes below `share` of all cores over one second),
    at most `limit_s` seconds. Returns the busy share seen last."""
    deadline = time.monotonic() + limit_s
    cores = os.cpu_count() or 1
    while True:
        b0, s0 = _busy_cpu_s(), os.times()
        time.sleep(1.0)
        s1 = os.times()
        own = (s1.user - s0.user) + (s1.system - s0.system)
        busy = max(0.0, _busy_cpu_s() - b0 - own) / cores
        if busy < share or time.monotonic() >= deadline:
            return busy
        time.sleep(2.0)


def tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------
# the project copy and the three configurations


def package_dirs(target: str, include_namespace_dirs: bool) -> list[str]:
    """Folders of the package whose .py files every tool analyses."""
    keep = []
    for folder, dirnames, filenames in os.walk(target):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        if not include_namespace_dirs and "__init__.py" not in filenames:
            dirnames[:] = []  # grimp does not descend into a folder without __init__.py
            continue
        keep.append(folder)
    return keep


def copy_package(target: str, dest: str, include_namespace_dirs: bool) -> list[str]:
    files = []
    for folder in package_dirs(target, include_namespace_dirs):
        rel = os.path.relpath(folder, target)
        out_dir = os.path.normpath(os.path.join(dest, rel))
        os.makedirs(out_dir, exist_ok=True)
        for name in sorted(os.listdir(folder)):
            src = os.path.join(folder, name)
            if name.endswith(".py") and os.path.isfile(src):
                shutil.copyfile(src, os.path.join(out_dir, name))
                files.append(os.path.join(out_dir, name))
    return files


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def write_configs(project: str, pkg: str, scope: str) -> dict[str, str]:
    toggle, key, spellings = KNOWN_TOGGLES.get(
        scope, (scope.rsplit(".", 1)[-1].strip("_") or "scope", "on_when_true",
                ["USE_" + scope.rsplit(".", 1)[-1].strip("_").upper()]))
    scopeguard = (
        "# Written by bench/run_bench.py\n"
        "[tool.scopeguard]\n"
        'source_roots = ["python"]\n\n'
        f"[tool.scopeguard.toggles.{toggle}]\n"
        f"{key} = {toml_list(spellings)}\n\n"
        "[[tool.scopeguard.scopes]]\n"
        f"name = {json.dumps(scope)}\n"
        f"toggle = {json.dumps(toggle)}\n"
    )
    # protected: only the scope itself (as a package) may import the scope, directly.
    importlinter = (
        "# Written by bench/run_bench.py\n"
        "[importlinter]\n"
        f"root_packages =\n    {pkg}\n\n"
        "[importlinter:contract:scope]\n"
        f"name = {scope} is imported only from inside itself\n"
        "type = protected\n"
        f"protected_modules =\n    {scope}\n"
        f"allowed_importers =\n    {scope}\n"
    )
    # Nested modules: a file belongs to the most specific module holding it, so module `pkg` is
    # everything outside the scope. exclude = [] because tach's default skips tests/ and docs/.
    tach = (
        "# Written by bench/run_bench.py\n"
        'source_roots = ["python"]\n'
        "exclude = []\n"
        "ignore_type_checking_imports = false\n"
        'root_module = "ignore"\n\n'
        "[[modules]]\n"
        f"path = {json.dumps(pkg)}\n"
        f"cannot_depend_on = [{json.dumps(scope)}]\n\n"
        "[[modules]]\n"
        f"path = {json.dumps(scope)}\n"
    )
    texts = {"pyproject.toml": scopeguard, ".importlinter": importlinter, "tach.toml": tach}
    for name, text in texts.items():
        with open(os.path.join(project, name), "w", encoding="utf-8") as f:
            f.write(text)
    return texts


def pick_changed_file(files: list[str], pkg_dir: str, scope: str, pkg: str) -> str:
    """The median-size module outside the scope (not an __init__.py): a typical one-file edit."""
    scope_dir = os.path.join(pkg_dir, *scope.split(".")[1:])
    candidates = [f for f in files
                  if not f.startswith(scope_dir + os.sep) and os.path.basename(f) != "__init__.py"]
    candidates = candidates or files
    candidates.sort(key=lambda f: (os.path.getsize(f), f))
    return candidates[len(candidates) // 2]


# --------------------------------------------------------------------------------------------
# tools


@dataclass
class Tool:
    name: str
    cmd: list[str]  # everything before the per-scenario flags
    env: dict[str, str]
    cache_dirs: list[str]  # removed for a cold run
    has_cache: bool
    note: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict)  # scenario -> extra args


def resolve_cmd(text: str | None, fallback_names: list[str]) -> list[str] | None:
    if text:
        parts = shlex.split(text)
        exe = shutil.which(parts[0]) or (parts[0] if os.path.isfile(parts[0]) else None)
        return [exe, *parts[1:]] if exe else None
    for name in fallback_names:
        exe = shutil.which(name)
        if exe:
            return [exe]
    return None


def shebang_python(exe: str) -> str | None:
    try:
        with open(exe, "rb") as f:
            first = f.readline().decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        interpreter = shutil.which(parts[1])  # #!/usr/bin/env python3
    else:
        interpreter = parts[0]
    if interpreter and "python" in os.path.basename(interpreter) and os.path.isfile(interpreter):
        return interpreter
    return None


def capture(cmd: list[str], **kw) -> str:
    try:
        r = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, **kw)
        return (r.stdout + r.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"<{e}>"


def tree_digest(folder: str) -> str:
    """sha256 over the .py files of a folder: tells whether the code changed during the run."""
    import hashlib

    h = hashlib.sha256()
    for base, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = os.path.join(base, name)
                h.update(os.path.relpath(path, folder).encode() + b"\0")
                with open(path, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()[:16]


def scopeguard_state(cmd: list[str]) -> dict:
    """What this scopeguard can do and which source it runs (for the README: before/after cache)."""
    help_text = capture([*cmd, "check", "--help"])
    state = {
        "help_flags": sorted({w.split("=")[0].rstrip(",") for w in help_text.split()
                              if w.startswith("--")}),
        "version": capture([*cmd, "--version"]),
    }
    state["cache"] = "--no-cache" in help_text and "--cache-dir" in help_text
    state["jobs"] = "--jobs" in help_text
    # `scopeguard --version` says where the package it runs lives ("... from DIR (python X.Y)");
    # older versions did not, and then the interpreter of the script is asked instead.
    version = state["version"]
    src = version.split(" from ", 1)[1].rsplit(" (python", 1)[0] if " from " in version else ""
    py = shebang_python(cmd[0])
    if not src and py:
        src = capture([py, "-c", "import os, scopeguard; print(os.path.dirname(scopeguard.__file__))"])
    if src:
        state["source"] = src
        if os.path.isdir(src):
            state["source_sha256"] = tree_digest(src)
            top = capture(["git", "-C", src, "rev-parse", "--show-toplevel"])
            if os.path.isdir(top):
                state["git_head"] = capture(["git", "-C", top, "rev-parse", "--short", "HEAD"])
                dirty = capture(["git", "-C", top, "status", "--porcelain", "--", "src"])
                state["git_src_dirty"] = bool(dirty.strip())
                state["git_src_status"] = dirty.splitlines()
    return state


def count_findings(name: str, result: RunResult) -> str:
    out = tail(result.stdout_path, 100000) + tail(result.stderr_path, 100000)
    lines = out.splitlines()
    if name == "scopeguard":
        n = sum(1 for ln in lines if ": SG" in ln)
        summary = [ln for ln in lines if "file(s) analysed" in ln]
        return f"{n} findings" + (f"; {summary[-1].strip()}" if summary else "")
    if name == "lint-imports":
        n = sum(1 for ln in lines if ln.startswith("- ") and " -> " in ln)
        summary = [ln for ln in lines if ln.startswith("Analyzed ")]
        return f"{n} illegal imports listed" + (f"; {summary[-1].strip()}" if summary else "")
    if name == "tach":
        n = sum(1 for ln in lines if ln.startswith(("[FAIL]", "[WARN]")))
        return f"{n} findings"
    return ""


# --------------------------------------------------------------------------------------------
# the benchmark


def fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def summarize(runs: list[RunResult]) -> dict:
    secs = [r.seconds for r in runs]
    return {
        "runs_s": [round(s, 4) for s in secs],
        "median_s": statistics.median(secs),
        "min_s": min(secs),
        "max_s": max(secs),
        "cpu_median_s": statistics.median(r.cpu_s for r in runs),
        # CPU other processes used during the timed runs, as a share of the machine's capacity
        "others_cpu_share": sum(r.others_cpu_s for r in runs)
        / max(1e-9, sum(r.seconds for r in runs) * (os.cpu_count() or 1)),
        "peak_rss_mb": max(r.peak_kb for r in runs) / 1024,
        "maxrss_mb": max(r.maxrss_kb for r in runs) / 1024,
        "tree_rss_mb": max(r.tree_rss_kb for r in runs) / 1024,
        "tree_pss_mb": max(r.tree_pss_kb for r in runs) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="the package folder, e.g. .../site-packages/tvm")
    ap.add_argument("--scope", help=f"dotted scope (default: first of {' / '.join(DEFAULT_SCOPES)} "
                    "that exists)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--scopeguard", help="scopeguard executable (default: on PATH)")
    ap.add_argument("--lint-imports", dest="lint_imports", help="lint-imports executable")
    ap.add_argument("--tach", help="tach executable")
    ap.add_argument("--floor-python", help="interpreter with libcst for the parse-only floor "
                    "(default: scopeguard's own interpreter)")
    ap.add_argument("--scopeguard-args", default="",
                    help="extra arguments for every scopeguard run, e.g. '--jobs 2'")
    ap.add_argument("--tools", default="scopeguard,lint-imports,tach,floor",
                    help="comma-separated subset to run")
    ap.add_argument("--workdir", help="default: a fresh temp folder")
    ap.add_argument("--keep", action="store_true", help="keep the workdir")
    ap.add_argument("--include-namespace-dirs", action="store_true",
                    help="also copy folders without __init__.py (grimp then sees fewer files)")
    ap.add_argument("--rss-sample-ms", type=float, default=20.0,
                    help="process-tree RSS sampling period; 0 turns sampling off")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each scenario, wait up to this long for the machine to be idle "
                         "(other processes below 10%% of the cores)")
    ap.add_argument("--scenarios", help="comma-separated subset of " + ",".join(SCENARIOS)
                    + ",no-cache (default: all)")
    ap.add_argument("--json", help="write the results as JSON to this file")
    args = ap.parse_args(argv)

    target = os.path.abspath(args.target.rstrip("/"))
    if not os.path.isfile(os.path.join(target, "__init__.py")):
        ap.error(f"{target} is not a package folder (no __init__.py)")
    pkg = os.path.basename(target)
    scope = args.scope
    if scope is None:
        for cand in DEFAULT_SCOPES:
            if cand.split(".")[0] == pkg and os.path.isdir(os.path.join(target, *cand.split(".")[1:])):
                scope = cand
                break
        if scope is None:
            ap.error(f"none of {', '.join(DEFAULT_SCOPES)} is in {target}; pass --scope")
    if scope.split(".")[0] != pkg:
        ap.error(f"--scope {scope} is not inside package {pkg}")
    wanted = {t.strip() for t in args.tools.split(",") if t.strip()}

    workdir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="scopeguard-bench-")
    os.makedirs(workdir, exist_ok=True)
    project = os.path.join(workdir, "project")
    logs = os.path.join(workdir, "logs")
    if os.path.exists(project):
        shutil.rmtree(project)
    os.makedirs(os.path.join(project, "python"))
    os.makedirs(logs, exist_ok=True)
    print(f"workdir: {workdir}", flush=True)

    try:
        return run(args, target, pkg, scope, wanted, workdir, project, logs)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not args.keep:
            shutil.rmtree(project, ignore_errors=True)


def run(args, target, pkg, scope, wanted, workdir, project, logs) -> int:
    pkg_dir = os.path.join(project, "python", pkg)
    t0 = time.perf_counter()
    files = copy_package(target, pkg_dir, args.include_namespace_dirs)
    if not os.path.isdir(os.path.join(pkg_dir, *scope.split(".")[1:])):
        print(f"error: scope {scope} has no folder in the copy", file=sys.stderr)
        return 2
    configs = write_configs(project, pkg, scope)
    changed = pick_changed_file(files, pkg_dir, scope, pkg)
    print(f"copied {len(files)} .py files of {target} in {time.perf_counter() - t0:.1f}s; "
          f"scope {scope}; one-file edits go to {os.path.relpath(changed, project)} "
          f"({os.path.getsize(changed)} bytes)", flush=True)

    base_env = dict(os.environ)
    base_env.pop("PYTHONPATH", None)
    # Installed tools run from compiled bytecode; with this set (some sandboxes and CI images set
    # it), a tool whose .pyc files are missing would recompile its modules on every timed run.
    base_env.pop("PYTHONDONTWRITEBYTECODE", None)
    tools: list[Tool] = []
    skipped: dict[str, str] = {}
    meta: dict = {}

    sg_cmd = resolve_cmd(args.scopeguard, ["scopeguard"]) if "scopeguard" in wanted else None
    if "scopeguard" in wanted and not sg_cmd:
        skipped["scopeguard"] = f"not found ({args.scopeguard or 'scopeguard on PATH'})"
    if sg_cmd:
        state = scopeguard_state(sg_cmd)
        meta["scopeguard"] = state
        cache_dir = os.path.join(project, ".scopeguard_cache")
        base = [*sg_cmd, "check", project, "-q", *shlex.split(args.scopeguard_args)]
        if state["cache"]:
            base += ["--cache-dir", cache_dir]
        tool = Tool("scopeguard", base, base_env, [cache_dir], state["cache"],
                    note="" if state["cache"] else "no cache in this build: every run is cold")
        if state["cache"]:
            tool.extra["no-cache"] = ["--no-cache"]
        tools.append(tool)

    li_cmd = resolve_cmd(args.lint_imports, ["lint-imports"]) if "lint-imports" in wanted else None
    if "lint-imports" in wanted and not li_cmd:
        skipped["lint-imports"] = f"not found ({args.lint_imports or 'lint-imports on PATH'})"
    if li_cmd:
        env = dict(base_env, PYTHONPATH=os.path.join(project, "python"))
        meta["lint-imports"] = {"version": capture([*li_cmd, "--version"])}
        py = shebang_python(li_cmd[0])
        if py:  # grimp finds the package by import: make sure it finds the copy, not an install
            origin = capture([py, "-c", f"import importlib.util as u; print(u.find_spec({pkg!r}).origin)"],
                             env=env, cwd=project)
            meta["lint-imports"]["package_origin"] = origin
            if not origin.startswith(os.path.join(project, "python")):
                print(f"warning: lint-imports would analyse {origin}, not the copy", file=sys.stderr)
        tools.append(Tool("lint-imports", [*li_cmd, "--no-logo"], env,
                          [os.path.join(project, ".import_linter_cache")], True))

    tach_cmd = resolve_cmd(args.tach, ["tach"]) if "tach" in wanted else None
    if "tach" in wanted and not tach_cmd:
        skipped["tach"] = f"not found ({args.tach or 'tach on PATH'})"
    if tach_cmd:
        meta["tach"] = {"version": capture([*tach_cmd, "--version"])}
        tools.append(Tool("tach", [*tach_cmd, "check"], base_env, [os.path.join(project, ".tach")],
                          False, note="`tach check` keeps no cache: every run is cold"))

    for name, why in skipped.items():
        print(f"skipping {name}: {why}", flush=True)

    results: dict[str, dict] = {}
    findings: dict[str, str] = {}
    failures: list[str] = []
    edit_counter = [0]

    def append_edit(line: str = "# run_bench.py edit {n}") -> None:
        edit_counter[0] += 1
        with open(changed, "a", encoding="utf-8") as f:
            f.write(line.format(n=edit_counter[0]) + "\n")

    def clear(tool: Tool) -> None:
        for d in tool.cache_dirs:
            shutil.rmtree(d, ignore_errors=True)

    active: list[Tool] = []
    for tool in tools:
        # One untimed run: warms the OS file cache and the tool's own imports, and gives the
        # findings (scopeguard without -q so that its summary line counts the files).
        clear(tool)
        warm_cmd = [a for a in tool.cmd if a != "-q"]
        r = run_child(warm_cmd, project, tool.env, os.path.join(logs, f"{tool.name}-warmup"),
                      args.rss_sample_ms)
        findings[tool.name] = count_findings(tool.name, r)
        if r.returncode not in (0, 1):
            msg = f"{tool.name}: warm-up exited {r.returncode}\n{tail(r.stderr_path)}"
            print(msg, file=sys.stderr, flush=True)
            failures.append(msg)
            continue
        print(f"{tool.name}: warm-up {r.seconds:.2f}s, {findings[tool.name]}", flush=True)
        active.append(tool)

    scenario_names = list(dict.fromkeys([*SCENARIOS, *(name for tool in active for name in tool.extra)]))
    if args.scenarios:
        scenario_names = [name for name in scenario_names if name in args.scenarios.split(",")]
    for scenario in scenario_names:
        members = [tool for tool in active if scenario in SCENARIOS or scenario in tool.extra]
        if args.wait_quiet > 0:
            busy = wait_quiet(args.wait_quiet)
            if busy >= 0.10:
                print(f"  (machine still {busy:.0%} busy after {args.wait_quiet:g}s; going on)", flush=True)
        if scenario in ("no-change", "one-file", "one-file-import"):
            for tool in members:  # warm the cache (and catch up with earlier edits) before the timed runs
                run_child(tool.cmd + tool.extra.get(scenario, []), project, tool.env,
                          os.path.join(logs, f"{tool.name}-prime"), args.rss_sample_ms)
        # Interleaved: repetition 1 of every tool, then repetition 2, ... A machine whose speed
        # drifts during the run (shared cloud cores do, by tens of percent over minutes) then
        # slows every tool alike, and the ratios between tools stay fair.
        runs: dict[str, list[RunResult]] = {tool.name: [] for tool in members}
        failed: set[str] = set()
        for rep in range(args.reps):
            for tool in members:
                if tool.name in failed:
                    continue
                if scenario == "cold":
                    clear(tool)
                elif scenario == "one-file":
                    append_edit()
                elif scenario == "one-file-import":
                    append_edit("import os as _run_bench_{n}")
                r = run_child(tool.cmd + tool.extra.get(scenario, []), project, tool.env,
                              os.path.join(logs, f"{tool.name}-{scenario}-{rep}"), args.rss_sample_ms)
                if r.returncode not in (0, 1):
                    msg = (f"{tool.name} {scenario} rep {rep}: exit {r.returncode}\n"
                           f"{tail(r.stderr_path)}")
                    print(msg, file=sys.stderr, flush=True)
                    failures.append(msg)
                    failed.add(tool.name)
                    continue
                runs[tool.name].append(r)
        for tool in members:
            if tool.name in failed:
                continue
            s = summarize(runs[tool.name])
            s["cmd"] = " ".join(shlex.quote(c) for c in tool.cmd + tool.extra.get(scenario, []))
            results.setdefault(tool.name, {})[scenario] = s
            print(f"  {tool.name:12} {scenario:9} median {fmt_s(s['median_s'])}s "
                  f"[{fmt_s(s['min_s'])}-{fmt_s(s['max_s'])}] peak {s['peak_rss_mb']:.0f} MB"
                  f" noise {s['others_cpu_share']:.0%}", flush=True)

    floor = None
    cores = os.cpu_count() or 1
    if "floor" in wanted:
        floor_py = args.floor_python or (shebang_python(sg_cmd[0]) if sg_cmd else None) or sys.executable
        list_path = os.path.join(workdir, "floor-files.txt")
        script_path = os.path.join(workdir, "floor.py")
        with open(list_path, "w", encoding="utf-8") as f:
            f.write("\n".join(files) + "\n")
        with open(script_path, "w", encoding="utf-8") as f:
            f.write(FLOOR_SCRIPT)
        probe = subprocess.run([floor_py, "-c", "import libcst"], check=False, capture_output=True,
                               text=True)
        if probe.returncode != 0:
            print(f"skipping floor: {floor_py} cannot import libcst", flush=True)
        else:
            inner, runs = [], []
            if args.wait_quiet > 0:
                wait_quiet(args.wait_quiet)
            for rep in range(args.reps):
                r = run_child([floor_py, script_path, list_path], workdir, base_env,
                              os.path.join(logs, f"floor-{rep}"), args.rss_sample_ms)
                if r.returncode != 0:
                    failures.append(f"floor rep {rep}: exit {r.returncode}\n{tail(r.stderr_path)}")
                    break
                with open(r.stdout_path, encoding="utf-8") as f:
                    inner.append(json.loads(f.read().strip().splitlines()[-1]))
                runs.append(r)
            if runs:
                parse = [i["parse_s"] for i in inner]
                floor = summarize(runs)
                floor.update({
                    "python": floor_py,
                    "files": inner[0]["files"],
                    "unparsable": inner[0]["failed"],
                    "parse_runs_s": [round(p, 4) for p in parse],
                    "parse_median_s": statistics.median(parse),
                    "parse_min_s": min(parse),
                    "parse_max_s": max(parse),
                    "import_libcst_s": statistics.median(i["import_s"] for i in inner),
                    "cores": cores,
                })
                floor["parse_per_core_s"] = floor["parse_median_s"] / cores
                print(f"  {'floor':12} parse     median {fmt_s(floor['parse_median_s'])}s "
                      f"[{fmt_s(floor['parse_min_s'])}-{fmt_s(floor['parse_max_s'])}] "
                      f"(process {fmt_s(floor['median_s'])}s) ÷ {cores} cores = "
                      f"{fmt_s(floor['parse_per_core_s'])}s", flush=True)

    if sg_cmd and meta.get("scopeguard", {}).get("source_sha256"):
        end = tree_digest(meta["scopeguard"]["source"])
        meta["scopeguard"]["source_sha256_at_end"] = end
        if end != meta["scopeguard"]["source_sha256"]:
            msg = ("scopeguard's source changed while the benchmark ran "
                   f"({meta['scopeguard']['source_sha256']} -> {end}): its numbers mix two versions")
            print(f"warning: {msg}", file=sys.stderr, flush=True)
            meta["scopeguard"]["warning"] = msg

    report = build_report(args, target, pkg, scope, files, changed, project, configs, results,
                          floor, meta, findings, skipped, failures, tools)
    print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
        print(f"\nwrote {args.json}")
    return 1 if failures else 0


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["mem_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
    except OSError:
        pass
    return info


def build_report(args, target, pkg, scope, files, changed, project, configs, results, floor, meta,
                 findings, skipped, failures, tools) -> dict:
    def med(tool: str, scenario: str) -> float | None:
        return results.get(tool, {}).get(scenario, {}).get("median_s")

    ratios = []

    def ratio(label: str, num: float | None, den: float | None, target_value: float | None) -> None:
        if num is None or den is None or den == 0:
            ratios.append({"name": label, "value": None, "target": target_value, "met": None})
            return
        value = num / den
        ratios.append({"name": label, "value": value, "target": target_value,
                       "met": None if target_value is None else value <= target_value})

    li_cached = med("lint-imports", "no-change")
    # Issue 28's targets.
    ratio("scopeguard no-change / lint-imports cached (no-change)", med("scopeguard", "no-change"),
          li_cached, 0.45)
    ratio("scopeguard one-file / lint-imports cached (no-change)", med("scopeguard", "one-file"),
          li_cached, 1.0)
    ratio("scopeguard one-file-import / lint-imports cached (no-change)", med("scopeguard", "one-file-import"),
          li_cached, None)
    ratio("scopeguard one-file / lint-imports one-file", med("scopeguard", "one-file"),
          med("lint-imports", "one-file"), None)
    per_core = floor["parse_per_core_s"] if floor else None
    ratio("scopeguard cold / (libcst parse-only / cores)", med("scopeguard", "cold"), per_core, 1.3)
    ratio("scopeguard cold / floor process wall (1 process)", med("scopeguard", "cold"),
          floor["median_s"] if floor else None, None)
    ratio("scopeguard cold / lint-imports cold", med("scopeguard", "cold"),
          med("lint-imports", "cold"), None)
    ratio("scopeguard cold / tach cold", med("scopeguard", "cold"), med("tach", "cold"), None)

    absolute = []
    sg_one = results.get("scopeguard", {}).get("one-file")
    if sg_one:  # issue 28's torch target, printed for any target
        absolute.append({"name": "scopeguard one-file, wall (torch target)", "value": sg_one["median_s"],
                         "target": 1.5, "met": sg_one["median_s"] <= 1.5, "unit": "s"})
    sg_cold = results.get("scopeguard", {}).get("cold")
    if sg_cold:  # the torch targets, printed for any target
        absolute.append({"name": "scopeguard cold, wall (torch target)", "value": sg_cold["median_s"],
                         "target": 30.0, "met": sg_cold["median_s"] <= 30.0, "unit": "s"})
        absolute.append({"name": "scopeguard cold, peak memory: PSS sum of the process tree "
                                 "(torch target)",
                         "value": sg_cold["peak_rss_mb"], "target": 400.0,
                         "met": sg_cold["peak_rss_mb"] <= 400.0, "unit": "MB"})
        absolute.append({"name": "scopeguard cold, peak RSS summed over processes (shared pages "
                                 "counted per process: the stricter reading)",
                         "value": sg_cold["tree_rss_mb"], "target": 400.0,
                         "met": sg_cold["tree_rss_mb"] <= 400.0, "unit": "MB"})
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "machine": machine(),
        "target": target, "package": pkg, "scope": scope, "files": len(files),
        "changed_file": os.path.relpath(changed, project),
        "reps": args.reps,
        "tools": meta, "notes": {t.name: t.note for t in tools if t.note},
        "findings": findings, "skipped": skipped, "failures": failures,
        "configs": configs,
        "results": results, "floor": floor, "ratios": ratios, "absolute": absolute,
    }


def print_report(rep: dict) -> None:
    print()
    print(f"{rep['package']} ({rep['files']} files), scope {rep['scope']}, {rep['reps']} reps, "
          f"{rep['machine'].get('cores')} cores; {rep['date']}")
    sg = rep["tools"].get("scopeguard")
    if sg:
        print(f"scopeguard: cache {'yes' if sg.get('cache') else 'NO'}, --jobs "
              f"{'yes' if sg.get('jobs') else 'no'}, git {sg.get('git_head', '?')}"
              f"{' + uncommitted src changes' if sg.get('git_src_dirty') else ''}, "
              f"source sha256 {sg.get('source_sha256', '?')}")
        if sg.get("warning"):
            print(f"WARNING: {sg['warning']}")
    print()
    cols = ("tool", "scenario", "median s", "min-max s", "CPU s", "peak MB", "RSS sum MB",
            "largest proc MB", "noise")
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for tool, scen in rep["results"].items():
        for name, s in scen.items():
            print(f"| {tool} | {name} | {fmt_s(s['median_s'])} | {fmt_s(s['min_s'])}-{fmt_s(s['max_s'])} "
                  f"| {fmt_s(s['cpu_median_s'])} | {s['peak_rss_mb']:.0f} | {s['tree_rss_mb']:.0f} "
                  f"| {s['maxrss_mb']:.0f} | {s['others_cpu_share']:.0%} |")
    fl = rep["floor"]
    if fl:
        print(f"| libcst floor | parse only (in process) | {fmt_s(fl['parse_median_s'])} | "
              f"{fmt_s(fl['parse_min_s'])}-{fmt_s(fl['parse_max_s'])} | | | | | |")
        print(f"| libcst floor | whole process | {fmt_s(fl['median_s'])} | "
              f"{fmt_s(fl['min_s'])}-{fmt_s(fl['max_s'])} | {fmt_s(fl['cpu_median_s'])} | "
              f"{fl['peak_rss_mb']:.0f} | {fl['tree_rss_mb']:.0f} | {fl['maxrss_mb']:.0f} | "
              f"{fl['others_cpu_share']:.0%} |")
        print(f"| libcst floor ÷ {fl['cores']} cores | parse only | {fmt_s(fl['parse_per_core_s'])} "
              f"| | | | | | |")
    for name, note in rep["notes"].items():
        print(f"note: {name}: {note}")
    print("note: noise = CPU other processes used during the timed runs, as a share of all cores; "
          "above a few percent the times are disturbed")
    print()
    print("| ratio | value | target | met |")
    print("|---|---|---|---|")
    for r in rep["ratios"] + rep["absolute"]:
        unit = r.get("unit", "")
        value = "-" if r["value"] is None else (f"{r['value']:.2f}" + (f" {unit}" if unit else ""))
        target = "-" if r["target"] is None else f"≤ {r['target']:g}" + (f" {unit}" if unit else "")
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        print(f"| {r['name']} | {value} | {target} | {met} |")
    print()
    for tool, text in rep["findings"].items():
        print(f"findings: {tool}: {text}")
    for tool, why in rep["skipped"].items():
        print(f"skipped: {tool}: {why}")
    for f in rep["failures"]:
        print(f"FAILED: {f}")


if __name__ == "__main__":
    sys.exit(main())
