"""Delete a scope for real, in a copy, and import every remaining module: the dynamic ground truth
for a deletion plan.

The project's source roots are copied to a temporary folder. Every remaining module is imported
there twice, each time in a process of its own: once in the untouched copy (modules that fail
anyway — a missing optional dependency, a native library — must not be blamed on the deletion),
then again after the scope's folders and extra paths are removed from the copy. A module broke
because of the deletion when it imported before and fails after.

Cost: importing `pkg.a.b` always imports `pkg` first, so the sweep imports each top-level package
once in a parent process (where that import succeeds in the copy) and forks one child per module:
each child is then what a fresh `import pkg.a.b` would be, without paying for `import pkg` again.
Where the top-level import fails, every module below it fails too and is answered at once;
where fork is unavailable (or the top-level import works only in a fresh process), each module
gets a fresh interpreter.

The user's tree is never written: the children run with the copy first on `sys.path`, their
working directory in the temporary folder and bytecode writing off, and the copy is removed on
every way out, Ctrl-C included. Large files (native libraries) are linked, not copied.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..base.model import Config, Scope

# Files above this size (native libraries) are symlinked into the copy instead of copied.
_LINK_ABOVE_BYTES = 4 * 1024 * 1024
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", ".git", ".scopeguard_cache"})


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    module: str
    ok: bool
    error: str = ""  # "ModuleNotFoundError: No module named 'x'", "timeout after 60s", ...


@dataclass(frozen=True)
class Sweep:
    outcomes: tuple[ImportOutcome, ...]
    forked: bool  # children were forked from a parent that had imported the top-level packages

    def failed(self) -> dict[str, str]:
        return {o.module: o.error for o in self.outcomes if not o.ok}


@dataclass(frozen=True)
class Verification:
    """The two sweeps and how the deletion's real effect compares with the static prediction."""

    before: Sweep
    after: Sweep
    predicted: frozenset[str]  # modules the plan says fail at import time
    broken: dict[str, str] = field(default_factory=dict)  # imported before, fail after: module -> error
    failing_anyway: dict[str, str] = field(default_factory=dict)  # fail in the untouched copy too

    @property
    def predicted_and_broken(self) -> list[str]:
        return sorted(self.predicted & self.broken.keys())

    @property
    def predicted_but_fine(self) -> list[str]:
        return sorted(self.predicted - self.broken.keys() - self.failing_anyway.keys())

    @property
    def broken_not_predicted(self) -> list[str]:
        return sorted(self.broken.keys() - self.predicted)

    @property
    def predicted_failing_anyway(self) -> list[str]:
        """Predicted, but they fail without the deletion too: nothing to compare."""
        return sorted(self.predicted & self.failing_anyway.keys())

    @property
    def agrees(self) -> bool:
        return not self.predicted_but_fine and not self.broken_not_predicted


def deletion_targets(config: Config, scope: Scope) -> list[str]:
    """Project-relative paths removed with the scope: its package folder (or module file) in each
    source root where it exists, then its extra paths."""
    targets = []
    relative = scope.name.replace(".", "/")
    for root in config.source_roots:
        base = os.path.normpath(os.path.join(root, relative)).replace(os.sep, "/")
        if os.path.isdir(os.path.join(config.root, base)):
            targets.append(base)
        elif os.path.isfile(os.path.join(config.root, base + ".py")):
            targets.append(base + ".py")
    for extra in scope.extra_paths:
        extra = extra.strip("/")
        if os.path.exists(os.path.join(config.root, extra)) and extra not in targets:
            targets.append(extra)
    return targets


def verify_deletion(
    config: Config,
    scope: Scope,
    modules: Iterable[str],
    predicted: Iterable[str],
    *,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    jobs: int | None = None,
    workdir: str | None = None,
    patch: str | None = None,
) -> Verification:
    """Import `modules` (the ones that remain) in a copy of the project, before and after deleting
    `scope` there, and compare with the `predicted` broken modules."""
    modules = sorted(set(modules))
    deleted_top = sorted({m for m in _top_level(config, scope)})
    temp = tempfile.mkdtemp(prefix="scopeguard-verify-", dir=workdir)
    try:
        roots = _copy_roots(config, temp)
        run = {"python": python or sys.executable, "env": env or {}, "timeout": timeout, "jobs": jobs or os.cpu_count() or 1}
        before = _sweep(temp, roots, modules, blocked=(), **run)
        if patch is not None:
            apply_patch(patch, os.path.join(temp, "copy"), config.source_roots)
        else:
            for target in deletion_targets(config, scope):
                _remove(os.path.join(temp, "copy", target), os.path.join(temp, "copy"))
        after = _sweep(temp, roots, modules, blocked=deleted_top, **run)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    failed_before, failed_after = before.failed(), after.failed()
    return Verification(
        before=before,
        after=after,
        predicted=frozenset(predicted),
        broken={m: e for m, e in failed_after.items() if m not in failed_before},
        failing_anyway=failed_before,
    )


def apply_patch(patch: str, copy: str, roots: Sequence[str]) -> None:
    """Apply a deletion patch in the copy with `git apply`, limited to the copied source roots (the
    copy holds only those). Git looks for no repository above the copy; paths that would leave it
    are refused by git itself (no --unsafe-paths). Raises RuntimeError when it does not apply."""
    includes = [] if any(os.path.normpath(r) == "." for r in roots) else [
        f"--include={os.path.normpath(r).replace(os.sep, '/')}/*" for r in roots]
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": os.path.dirname(os.path.abspath(copy))}
    try:
        done = subprocess.run(["git", "apply", "--whitespace=nowarn", *includes, "-"], input=patch.encode("utf-8"),
                              cwd=copy, env=env, capture_output=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"git apply could not run: {error}") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RuntimeError("the patch does not apply in the copy: " + " | ".join(tail))


def _top_level(config: Config, scope: Scope) -> list[str]:
    """The scope's name when it is a top-level package: the interpreter may have another copy
    installed (site-packages), which must not stand in for the deleted one."""
    return [scope.name] if "." not in scope.name else []


def _copy_roots(config: Config, temp: str) -> list[str]:
    """Copy every source root below `temp/copy`, keeping its place relative to the project root;
    return the copied roots' absolute paths in `source_roots` order."""
    copied = []
    for root in config.source_roots:
        source = os.path.normpath(os.path.join(config.root, root))
        target = os.path.normpath(os.path.join(temp, "copy", root))
        if not _within(target, os.path.join(temp, "copy")):
            raise RuntimeError(f"refusing to copy source root {root!r}: it is not inside the project")
        if os.path.isdir(source) and not os.path.exists(target):
            # Symlinked folders are copied as folders (the copy must import what the tree imports,
            # and a relative link could point at something not copied); a link back to a folder
            # being copied (a cycle) is left out, as discovery leaves it out.
            shutil.copytree(source, target, symlinks=False, ignore=_ignored, copy_function=_copy_or_link)
        copied.append(target)
    return copied


def _ignored(folder: str, names: Sequence[str]) -> set[str]:
    skipped = {
        n
        for n in names
        if n in _SKIPPED_DIRS
        or (n.startswith(".") and os.path.isdir(os.path.join(folder, n)))
        or os.path.isfile(os.path.join(folder, n, "pyvenv.cfg"))
    }
    # A dangling link has nothing to copy (shutil's own check resolves it against the working directory).
    skipped.update(n for n in names if os.path.islink(os.path.join(folder, n))
                   and not os.path.exists(os.path.join(folder, n)))
    links = [n for n in names if n not in skipped and os.path.islink(os.path.join(folder, n))
             and os.path.isdir(os.path.join(folder, n))]
    if links:
        # The real folders on the way down to `folder`, as named through any links above it.
        parts = os.path.abspath(folder).split(os.sep)
        chain = {os.path.realpath(os.sep.join(parts[:i]) or os.sep) for i in range(1, len(parts) + 1)}
        skipped.update(n for n in links if os.path.realpath(os.path.join(folder, n)) in chain)
    return skipped


def _copy_or_link(source: str, target: str) -> str:
    if not source.endswith(".py") and os.path.getsize(source) > _LINK_ABOVE_BYTES:
        os.symlink(os.path.abspath(source), target)
        return target
    return shutil.copy2(source, target)


def _within(path: str, folder: str) -> bool:
    path, folder = os.path.normpath(path), os.path.normpath(folder)
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _remove(path: str, copy: str) -> None:
    """Delete `path` from the copy; refuse anything that is not strictly inside the copy, as written
    and once the folders leading to it are resolved (a `..` or a symlinked folder in a configured
    path must never reach the temporary folder's parent, or beyond). A symlink itself is removed,
    never what it points to."""
    path = os.path.normpath(path)
    real_copy = os.path.realpath(copy)
    if not (_within(path, copy) and _within(os.path.join(os.path.realpath(os.path.dirname(path)),
                                                          os.path.basename(path)), real_copy)):
        raise RuntimeError(f"refusing to delete {path}: it is not inside the temporary copy {copy}")
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def _sweep(temp, roots, modules, *, blocked, python, env, timeout, jobs) -> Sweep:
    """Run the sweep script in the copy with the chosen interpreter; read its JSON answer."""
    script = os.path.join(temp, "sweep.py")
    with open(script, "w", encoding="utf-8") as handle:
        handle.write(SWEEP_SCRIPT)
    request = os.path.join(temp, "request.json")
    answer = os.path.join(temp, "answer.json")
    with open(request, "w", encoding="utf-8") as handle:
        json.dump({"roots": roots, "modules": modules, "blocked": list(blocked), "timeout": timeout,
                   "jobs": jobs, "scratch": os.path.join(temp, "scratch"), "answer": answer}, handle)
    child_env = {**os.environ, **env, "PYTHONDONTWRITEBYTECODE": "1"}
    child_env["PYTHONPATH"] = os.pathsep.join([*roots, *filter(None, [child_env.get("PYTHONPATH", "")])])
    process = subprocess.Popen([python, "-B", script, request], cwd=temp, env=child_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = process.communicate()
    except BaseException:  # Ctrl-C: stop the sweep and every child it forked, then clean up
        _kill_group(process)
        raise
    if process.returncode != 0 or not os.path.isfile(answer):
        tail = err.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RuntimeError(f"the import sweep failed with {python} (exit {process.returncode}): " + " | ".join(tail))
    with open(answer, encoding="utf-8") as handle:
        data = json.load(handle)
    outcomes = tuple(ImportOutcome(m, r["ok"], r.get("error", "")) for m, r in sorted(data["results"].items()))
    return Sweep(outcomes, data["forked"])


def _kill_group(process: subprocess.Popen) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


# Runs in the chosen interpreter, inside the copy. Standard library only; Python 3.8+.
SWEEP_SCRIPT = r'''
import importlib, importlib.abc, json, os, subprocess, sys, time

request = json.load(open(sys.argv[1]))
roots = [os.path.realpath(r) for r in request["roots"]]
blocked = request["blocked"]
timeout, jobs, scratch = request["timeout"], max(1, request["jobs"]), request["scratch"]
os.makedirs(scratch, exist_ok=True)
sys.path[:0] = request["roots"]


class Blocked(importlib.abc.MetaPathFinder):
    """A deleted top-level package must not be found elsewhere (an installed copy)."""
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            raise ModuleNotFoundError("No module named %r" % name, name=name)
        return None


sys.meta_path.insert(0, Blocked())


def describe(error):
    text = "%s: %s" % (type(error).__name__, error)
    return text.splitlines()[0][:500] if text.strip() else type(error).__name__


def outside_copy(module):
    where = getattr(module, "__file__", None)
    if where and not any(os.path.realpath(where).startswith(r + os.sep) for r in roots):
        return "imported from outside the copy: %s" % where
    return ""


def import_here(name):
    """Import in this process; return an error text, or '' on success."""
    try:
        module = importlib.import_module(name)
    except BaseException as error:
        return describe(error)
    return outside_copy(module)


CHILD = "import sys; sys.path[:0] = %r; sys.meta_path.insert(0, type('B', (), {'find_spec': staticmethod(%s)})())\n" % (
    request["roots"], "lambda n, p=None, t=None: (_ for _ in ()).throw(ModuleNotFoundError(n, name=n)) if any(n == b or n.startswith(b + '.') for b in %r) else None" % (blocked,))
CHILD += "import importlib; importlib.import_module(sys.argv[1])\n"

# Import each top-level package once here, where it imports cleanly; children forked from here
# are then a fresh `import pkg.a.b` each. Otherwise each module gets its own interpreter.
# A top-level package that fails to import fails every module below it (Python imports `pkg`
# before `pkg.a.b`), so those modules are answered without starting a process each.
can_fork = hasattr(os, "fork")
ready = set()
root_failed = {}
if can_fork:
    for top in sorted({m.split(".")[0] for m in request["modules"]}):
        if top in blocked:
            continue
        note = os.path.join(scratch, "top-%s.txt" % top)
        pid = os.fork()  # try the top-level import in a throwaway child first: it may hang or crash
        if pid == 0:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1); os.dup2(devnull, 2)
                with open(note, "w") as handle:
                    handle.write(import_here(top))
            finally:
                os._exit(0)
        deadline = time.time() + timeout
        while time.time() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        else:
            os.kill(pid, 9); os.waitpid(pid, 0)
            with open(note, "w") as handle:
                handle.write("timeout after %ss" % timeout)
        try:
            error = open(note).read()
        except OSError:
            error = "the import crashed the process"
        if error:
            root_failed[top] = error
        elif not import_here(top):
            ready.add(top)

results = {}
pending = []
for module in request["modules"]:
    top = module.split(".")[0]
    if top in root_failed:
        error = root_failed[top]
        results[module] = {"ok": False, "error": error if module == top else "`import %s` fails: %s" % (top, error)}
    else:
        pending.append(module)
running = {}  # key -> (module, start, kind, handle)


def start(module, index):
    out = os.path.join(scratch, "%d.txt" % index)
    if module.split(".")[0] in ready:
        pid = os.fork()
        if pid == 0:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1); os.dup2(devnull, 2)
                error = import_here(module)
                with open(out, "w") as handle:
                    handle.write(error)
            finally:
                os._exit(0)
        return ("fork", pid, out)
    with open(out, "w") as handle:  # stderr to a file: a pipe could fill up and stall the child
        process = subprocess.Popen([sys.executable, "-B", "-c", CHILD, module], stdout=subprocess.DEVNULL,
                                   stderr=handle)
    return ("spawn", process, out)


def finished(handle):
    kind, what, out = handle
    if kind == "fork":
        done, _ = os.waitpid(what, os.WNOHANG)
        return bool(done)
    return what.poll() is not None


def outcome(handle):
    kind, what, out = handle
    if kind == "fork":
        try:
            error = open(out).read()
        except OSError:
            error = "the import crashed the process"
        return error
    if what.returncode == 0:
        return ""
    try:
        err = open(out, encoding="utf-8", errors="replace").read().strip().splitlines()
    except OSError:
        err = []
    return (err[-1] if err else "exit %d" % what.returncode)[:500]


def stop(handle):
    kind, what, out = handle
    if kind == "fork":
        os.kill(what, 9); os.waitpid(what, 0)
    else:
        what.kill(); what.wait()


index = 0
while pending or running:
    while pending and len(running) < jobs:
        module = pending.pop(0)
        running[index] = (module, time.time(), start(module, index))
        index += 1
    for key in list(running):
        module, began, handle = running[key]
        if finished(handle):
            error = outcome(handle)
            results[module] = {"ok": not error, "error": error}
            del running[key]
        elif time.time() - began > timeout:
            stop(handle)
            results[module] = {"ok": False, "error": "timeout after %ss" % timeout}
            del running[key]
    time.sleep(0.005)

json.dump({"results": results, "forked": bool(ready)}, open(request["answer"], "w"))
'''
