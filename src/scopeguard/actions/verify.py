"""Delete a scope for real, in a copy, and import every remaining module: the dynamic ground truth
for a deletion plan.

The project's source roots are copied to a temporary folder. Every remaining module is imported
there twice, each time in a process of its own: once in the untouched copy (modules that fail
anyway — a missing optional dependency, a native library — must not be blamed on the deletion),
then again after the scope's folders and extra paths are removed from the copy. A module broke
because of the deletion when it imported before and fails after. A module that does not finish
importing within the timeout is *timed out*, never broken: it is stopped, retried once alone (a
loaded machine makes a slow import slower), and if it times out again it is reported with its time
as not checked.

Cost: importing `pkg.a.b` always imports `pkg` first, so the sweep imports each top-level package
once in a parent process (where that import succeeds in the copy) and forks one child per module:
each child is then what a fresh `import pkg.a.b` would be, without paying for `import pkg` again.
Where the top-level import fails, every module below it fails too and is answered at once;
where fork is unavailable (or the top-level import works only in a fresh process), each module
gets a fresh interpreter.

Unknown dynamic-import sites (the plan's `unknown`, path:line) are watched during both sweeps: the
sweep's own bootstrap, in the sweep interpreter only, wraps `builtins.__import__` and
`importlib.import_module` and records, for every import made while a site's line is executing
(the site itself, or code it runs: `exec` of a string, `pkgutil`), the module name asked for and
the modules of the deleted scope that were loaded.

What is and is not protected. The tree's code runs — that is the point of --verify — so it can do
whatever the interpreter's user can; scopeguard only makes sure that nothing the tree holds directs
scopeguard's *own* reads and writes outside the temporary folder: the copy is made of regular files
copied byte for byte (never linked to the originals; FIFOs and devices left out, non-Python files
beyond a size budget left out and reported), the sweep's answer is read with the safe reader
(regular file, bounded, no symlink), and the folder is removed with a walk that never follows links.
The environment is clean by default (`env_mode="clean"`: PATH, locale, PYTHON* and the library path,
HOME and TMPDIR pointed into the temporary folder); `"inherit"` hands the caller's whole
environment, secrets included, to the tree's code. SIGTERM and SIGINT (how CI cancels a job, and
Ctrl-C) stop every process of the sweep (each runs in a process group of its own, killed whole) and
remove the copy before scopeguard exits; the sweep also stops itself when scopeguard dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..base.model import Config, Scope
from ..base.safeio import read_regular

# Non-Python files (native libraries, data) are copied while their total stays within this budget;
# beyond it they are left out of the copy (and listed). Python files are always copied.
COPY_BUDGET_BYTES = 2 * 1024 * 1024 * 1024
_ANSWER_LIMIT = 256 * 1024 * 1024
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", ".git", ".scopeguard_cache"})
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
ENV_MODES = ("clean", "inherit")
# What a clean environment keeps from the caller's: enough to find programs and native libraries
# and to run Python as configured (PYTHON*), nothing else (no tokens, no cloud credentials).
_CLEAN_NAMES = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH",
                          "SYSTEMROOT", "COMSPEC", "PATHEXT"})
_CLEAN_PREFIXES = ("LC_", "PYTHON")


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT arrived during the sweep; the sweep's processes were stopped and the copy
    removed. `signum` says which signal (a shell reports 128 + signum)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    module: str
    ok: bool
    error: str = ""  # "ModuleNotFoundError: No module named 'x'", "timed out after 60.0s", ...
    timed_out: bool = False  # did not finish importing in time, twice (the second time alone)
    seconds: float = 0.0  # how long the (last) attempt ran, for a timed-out module


@dataclass(frozen=True, slots=True)
class SiteLoad:
    """One module name an unknown dynamic-import site asked for during a sweep."""

    module: str
    ok: bool  # the import succeeded (at least once)
    in_scope: bool  # the module is the deleted scope or inside it
    sweep: str  # "before" or "after" the deletion (the first sweep it was seen in)


@dataclass(frozen=True)
class Sweep:
    outcomes: tuple[ImportOutcome, ...]
    forked: bool  # children were forked from a parent that had imported the top-level packages
    loads: Mapping[tuple[str, int], Mapping[str, bool]] = field(default_factory=dict)  # site -> name -> ok

    def failed(self) -> dict[str, str]:
        """Modules that failed to import (timed-out ones are not failures: they were not checked)."""
        return {o.module: o.error for o in self.outcomes if not o.ok and not o.timed_out}

    def timed_out(self) -> dict[str, float]:
        return {o.module: o.seconds for o in self.outcomes if o.timed_out}


@dataclass(frozen=True)
class Verification:
    """The two sweeps and how the deletion's real effect compares with the static prediction."""

    before: Sweep
    after: Sweep
    predicted: frozenset[str]  # modules the plan says fail at import time
    broken: dict[str, str] = field(default_factory=dict)  # imported before, fail after: module -> error
    failing_anyway: dict[str, str] = field(default_factory=dict)  # fail in the untouched copy too
    # did not finish importing in time in either sweep (retried once alone): module -> (seconds, sweep)
    timed_out: dict[str, tuple[float, str]] = field(default_factory=dict)
    left_out: tuple[tuple[str, str], ...] = ()  # (project-relative path, why) not copied
    site_loads: dict[tuple[str, int], tuple[SiteLoad, ...]] = field(default_factory=dict)  # watched sites

    @property
    def ok(self) -> list[str]:
        """Modules that imported after the deletion."""
        return sorted(o.module for o in self.after.outcomes if o.ok)

    @property
    def predicted_and_broken(self) -> list[str]:
        return sorted(self.predicted & self.broken.keys())

    @property
    def predicted_but_fine(self) -> list[str]:
        return sorted(self.predicted - self.broken.keys() - self.failing_anyway.keys() - self.timed_out.keys())

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
    env_mode: str = "clean",
    timeout: float = 60.0,
    jobs: int | None = None,
    workdir: str | None = None,
    patch: str | None = None,
    sites: Iterable[tuple[str, int]] = (),
    copy_budget: int = COPY_BUDGET_BYTES,
) -> Verification:
    """Import `modules` (the ones that remain) in a copy of the project, before and after deleting
    `scope` there, and compare with the `predicted` broken modules. `sites` (project-relative
    path, line) are the dynamic-import sites to watch. Raises Interrupted on SIGTERM/SIGINT, after
    stopping the sweep and removing the copy."""
    if env_mode not in ENV_MODES:
        raise ValueError(f"env_mode must be one of {ENV_MODES}, not {env_mode!r}")
    modules = sorted(set(modules))
    sites = sorted(set(sites))
    deleted_top = sorted(set(_top_level(config, scope)))
    with _stop_on_signals() as signals:
        temp = None
        try:
            temp = tempfile.mkdtemp(prefix="scopeguard-verify-", dir=workdir)
            roots, left_out = _copy_roots(config, temp, copy_budget)
            copy = os.path.join(temp, "copy")
            watched = [[os.path.normpath(os.path.join(copy, path)), line, f"{path}:{line}"] for path, line in sites]
            run = {"python": python or sys.executable, "env": _child_env(env_mode, env or {}, temp),
                   "timeout": timeout, "jobs": jobs or os.cpu_count() or 1, "scope": scope.name, "sites": watched}
            before = _sweep(temp, roots, modules, blocked=(), name="before", **run)
            if patch is not None:
                apply_patch(patch, copy, config.source_roots)
            else:
                for target in deletion_targets(config, scope):
                    _remove(os.path.join(copy, target), copy)
            after = _sweep(temp, roots, modules, blocked=deleted_top, name="after", **run)
        finally:
            signals.cleaning = True  # a signal now is held until the copy is gone
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)
    return _compare(before, after, predicted, scope, sites, left_out)


def _compare(before: Sweep, after: Sweep, predicted, scope: Scope, sites, left_out) -> Verification:
    failed_before, failed_after = before.failed(), after.failed()
    slow_before, slow_after = before.timed_out(), after.timed_out()
    timed_out = {m: (s, "before") for m, s in slow_before.items()}
    timed_out.update({m: (s, "after") for m, s in slow_after.items()})
    site_loads = {}
    for site in sites:
        seen: dict[str, SiteLoad] = {}
        for sweep, name in ((before, "before"), (after, "after")):
            for module, ok in sorted(sweep.loads.get(site, {}).items()):
                old = seen.get(module)
                seen[module] = SiteLoad(module, ok or bool(old and old.ok), scope.contains(module),
                                        old.sweep if old else name)
        site_loads[site] = tuple(seen[m] for m in sorted(seen))
    return Verification(
        before=before,
        after=after,
        predicted=frozenset(predicted),
        # a module that timed out before the deletion cannot be said to have imported before it
        broken={m: e for m, e in failed_after.items() if m not in failed_before and m not in slow_before},
        failing_anyway=failed_before,
        timed_out=dict(sorted(timed_out.items())),
        left_out=tuple(left_out),
        site_loads=site_loads,
    )


class _Signals:
    def __init__(self) -> None:
        self.fired: list[int] = []
        self.cleaning = False


@contextlib.contextmanager
def _stop_on_signals():
    """For the sweep's duration, SIGTERM (how CI cancels a job) and SIGINT raise Interrupted in the
    main thread, so that the `finally` clauses stop the sweep's process groups and remove the copy.
    A second signal, or one that arrives while the copy is being removed (`cleaning`), does not
    interrupt the cleanup: the latter is raised once it is done. The previous handlers are restored."""
    state = _Signals()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum, frame):
        first = not state.fired
        state.fired.append(signum)
        if first and not state.cleaning:
            raise Interrupted(signum)

    wanted = [s for s in (getattr(signal, "SIGTERM", None), signal.SIGINT) if s is not None]
    previous = {}
    raised = False
    try:
        for number in wanted:
            previous[number] = signal.signal(number, handler)
        try:
            yield state
        except Interrupted:
            raised = True
            raise
    finally:
        for number, old in previous.items():
            signal.signal(number, old if old is not None else signal.SIG_DFL)
    if state.fired and not raised:
        raise Interrupted(state.fired[0])


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


def _copy_roots(config: Config, temp: str, budget: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Copy every source root below `temp/copy`, keeping its place relative to the project root;
    return the copied roots' absolute paths in `source_roots` order, and the files left out
    (project-relative path, why)."""
    copied = []
    copier = _Copier(config.root, budget)
    for root in config.source_roots:
        source = os.path.normpath(os.path.join(config.root, root))
        target = os.path.normpath(os.path.join(temp, "copy", root))
        inside = os.path.normpath(os.path.join(temp, "copy"))
        if not (_within(target, inside) or target == inside):  # source root "." is the copy itself
            raise RuntimeError(f"refusing to copy source root {root!r}: it is not inside the project")
        if os.path.isdir(source) and not os.path.exists(target):
            # Symlinked folders are copied as folders (the copy must import what the tree imports,
            # and a relative link could point at something not copied); a link back to a folder
            # being copied (a cycle) is left out, as discovery leaves it out.
            shutil.copytree(source, target, symlinks=False, ignore=_ignored, copy_function=copier.copy)
        copied.append(target)
    return copied, copier.left_out


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


class _Copier:
    """copytree's copy function: a new regular file with the source's bytes, never a link (a link
    to the original would let the tree's code write into the real tree through the copy). Only
    regular files are copied (opened without blocking: a FIFO or device named like a library is
    left out, never read); non-Python files only while their total stays within the budget."""

    def __init__(self, project: str, budget: int) -> None:
        self.project = project
        self.budget = budget
        self.spent = 0
        self.left_out: list[tuple[str, str]] = []

    def copy(self, source: str, target: str) -> str:
        relative = os.path.relpath(source, self.project).replace(os.sep, "/")
        try:
            fd = os.open(source, os.O_RDONLY | _NONBLOCK | _CLOEXEC)
        except OSError as error:
            self.left_out.append((relative, f"cannot be read: {error.strerror or error}"))
            return target
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                self.left_out.append((relative, "not a regular file"))
                return target
            size = info.st_size
            if not source.endswith(".py"):
                if self.spent + size > self.budget:
                    self.left_out.append((relative, f"{size / 1048576:.1f} MB, over the copy budget of "
                                                    f"{self.budget / 1048576:.0f} MB for non-Python files"))
                    return target
                self.spent += size
            out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC,
                          (stat.S_IMODE(info.st_mode) & 0o755) | 0o600)
            try:
                left = size  # what fstat reported: a file that grows while copied is not followed
                while left > 0:
                    chunk = os.read(fd, min(left, 1 << 20))
                    if not chunk:
                        break
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(out, view):]
                    left -= len(chunk)
            finally:
                os.close(out)
            return target
        finally:
            os.close(fd)


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


def _child_env(mode: str, extra: Mapping[str, str], temp: str) -> dict[str, str]:
    """The sweep's environment. "inherit": the caller's, whole. "clean": only what running Python
    needs (PATH, locale, PYTHON*, the native library path), with HOME and TMPDIR inside the
    temporary folder, so that nothing the tree writes to ~ or /tmp outlives the sweep. `--env`
    values are added in both modes."""
    if mode == "inherit":
        env = dict(os.environ)
    else:
        env = {k: v for k, v in os.environ.items() if k in _CLEAN_NAMES or k.startswith(_CLEAN_PREFIXES)}
        for name, folder in (("HOME", "home"), ("TMPDIR", "tmp")):
            env[name] = os.path.join(temp, folder)
            os.makedirs(env[name], exist_ok=True)
        env.setdefault("PATH", os.defpath)
    env.update(extra)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _sweep(temp, roots, modules, *, blocked, name, python, env, timeout, jobs, scope, sites) -> Sweep:
    """Run the sweep script in the copy with the chosen interpreter; read its JSON answer."""
    script = os.path.join(temp, "sweep.py")
    with open(script, "w", encoding="utf-8") as handle:
        handle.write(SWEEP_SCRIPT)
    request = os.path.join(temp, f"request-{name}.json")
    answer = os.path.join(temp, f"answer-{name}.json")
    with open(request, "w", encoding="utf-8") as handle:
        json.dump({"roots": roots, "modules": modules, "blocked": list(blocked), "timeout": timeout,
                   "jobs": jobs, "scratch": os.path.join(temp, f"scratch-{name}"), "answer": answer,
                   "scope": scope, "sites": sites}, handle)
    child_env = dict(env)
    child_env["PYTHONPATH"] = os.pathsep.join([*roots, *filter(None, [child_env.get("PYTHONPATH", "")])])
    process = None
    try:
        with _signals_held():  # a signal between the fork and `process = ...` would orphan the sweep
            process = subprocess.Popen([python, "-B", script, "main", request], cwd=temp, env=child_env,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, start_new_session=True)
        _, err = process.communicate()
    finally:
        # On every way out (SIGTERM, Ctrl-C, an error, or done): kill the sweep's whole process
        # group, stragglers the tree's code started included.
        if process is not None:
            with _signals_held():  # not interrupted half-way by a second signal
                _kill_group(process)
    if process.returncode != 0 or not os.path.isfile(answer):
        tail = err.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RuntimeError(f"the import sweep failed with {python} (exit {process.returncode}): " + " | ".join(tail))
    try:
        data = json.loads(read_regular(answer, _ANSWER_LIMIT, follow=False)[0].decode("utf-8"))
        outcomes = tuple(ImportOutcome(str(m), bool(r["ok"]), str(r.get("error", "")), bool(r.get("timeout")),
                                       float(r.get("seconds", 0.0)))
                         for m, r in sorted(data["results"].items()))
        known = {key: (path, line) for path, line, key in
                 ((os.path.relpath(p, os.path.join(temp, "copy")).replace(os.sep, "/"), line, key)
                  for p, line, key in sites)}
        loads = {known[key]: {str(m): bool(ok) for m, ok in names.items()}
                 for key, names in data.get("loads", {}).items() if key in known}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise RuntimeError(f"the import sweep's answer cannot be read: {error}") from None
    return Sweep(outcomes, bool(data.get("forked")), loads)


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT/SIGTERM (delivered on exit) where the platform can; the sweep unblocks them."""
    held = {signal.SIGINT, *([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        elif process.poll() is None:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


# Runs in the chosen interpreter, inside the copy: `sweep.py main REQUEST` sweeps, and starts
# `sweep.py child REQUEST MODULE OUT` where it cannot fork. Standard library only; Python 3.8+.
SWEEP_SCRIPT = r'''
import builtins, importlib, importlib.abc, importlib.util, json, os, signal, sys, time

try:  # scopeguard holds these while it starts the sweep; the sweep and the tree get them back
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
except (AttributeError, ValueError, OSError):
    pass

mode = sys.argv[1]
with open(sys.argv[2]) as handle:
    request = json.load(handle)
roots = [os.path.realpath(r) for r in request["roots"]]
blocked = request["blocked"]
scope = request["scope"]
timeout, jobs, scratch = request["timeout"], max(1, request["jobs"]), request["scratch"]
sys.path[:0] = request["roots"]


class Blocked(importlib.abc.MetaPathFinder):
    """A deleted top-level package must not be found elsewhere (an installed copy)."""
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            raise ModuleNotFoundError("No module named %r" % name, name=name)
        return None


sys.meta_path.insert(0, Blocked())

# The watch on unknown dynamic-import sites: every import made while a site's line executes (the
# site itself, or what it runs: exec'd strings, pkgutil) is recorded against the site, with the
# name asked for and whether it worked; modules of the scope it loaded on the way are recorded too.
# An import made by the body of a module being imported belongs to that module, not to a site.
SITES = {}
for _path, _line, _key in request["sites"]:
    SITES.setdefault(_path, {})[_line] = _key
LOADS = {}
original_import = builtins.__import__
original_import_module = importlib.import_module


def site_on_stack(frame):
    depth = 0
    while frame is not None and depth < 200:
        code = frame.f_code
        lines = SITES.get(code.co_filename)
        if lines is not None and frame.f_lineno in lines:
            return lines[frame.f_lineno]
        if code.co_name == "<module>" and not code.co_filename.startswith("<"):
            return None
        frame = frame.f_back
        depth += 1
    return None


def in_scope(name):
    return name == scope or name.startswith(scope + ".")


def note(key, names, ok, before):
    try:
        entry = LOADS.setdefault(key, {})
        for name in names:
            entry[name] = entry.get(name, False) or ok
        for name in list(sys.modules):
            if name not in before and in_scope(name):
                entry[name] = True
    except Exception:
        pass


def resolve(name, package, level):
    try:
        return importlib.util.resolve_name("." * level + name, package) if level else name
    except Exception:
        return "." * level + name


def watched_import(name, globals=None, locals=None, fromlist=(), level=0):
    caller = sys._getframe(1)
    # the import system's own imports (of _io, tokenize ...) are not what a site asked for
    key = None if caller.f_code.co_filename.startswith("<frozen") else site_on_stack(caller)
    if key is None:
        return original_import(name, globals, locals, fromlist, level)
    package = None
    if level and isinstance(globals, dict):
        package = globals.get("__package__")
        if package is None and isinstance(globals.get("__name__"), str):
            package = globals["__name__"] if "__path__" in globals else globals["__name__"].rpartition(".")[0]
    target = resolve(str(name), package, level)
    before = set(sys.modules)
    ok = False
    try:
        module = original_import(name, globals, locals, fromlist, level)
        ok = True
        return module
    finally:
        names = [target]
        for item in fromlist or ():
            if isinstance(item, str) and target + "." + item in sys.modules:
                names.append(target + "." + item)
        note(key, names, ok, before)


def watched_import_module(name, package=None):
    key = site_on_stack(sys._getframe(1))
    if key is None:
        return original_import_module(name, package)
    target = name
    if isinstance(name, str) and name.startswith("."):
        try:
            target = importlib.util.resolve_name(name, package)
        except Exception:
            pass
    before = set(sys.modules)
    ok = False
    try:
        module = original_import_module(name, package)
        ok = True
        return module
    finally:
        note(key, [str(target)], ok, before)


if SITES:
    builtins.__import__ = watched_import
    importlib.import_module = watched_import_module


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
        module = original_import_module(name)
    except BaseException as error:
        return describe(error)
    return outside_copy(module)


def quiet():
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def write_out(out, error):
    with open(out, "w") as handle:
        json.dump({"error": error, "loads": LOADS}, handle)


if mode == "child":  # a fresh interpreter for one module (where fork is not available)
    out = sys.argv[4]
    write_out(out, "the process ended before the import finished")
    error = import_here(sys.argv[3])
    write_out(out, error)
    sys.stdout.flush()
    os._exit(0)

os.makedirs(scratch, exist_ok=True)
parent = os.getppid()


def orphaned():
    """scopeguard is gone (killed without a chance to clean up): stop everything of this sweep."""
    if os.getppid() != parent:
        try:
            os.killpg(0, signal.SIGKILL)
        finally:
            os._exit(1)


def wait_for(handle, limit):
    """Wait until `handle` finishes or `limit` seconds pass; True when it finished."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if finished(handle):
            return True
        orphaned()
        time.sleep(0.01)
    return finished(handle)


def probe(top, index):
    """Try `import top` in a throwaway child (it may hang or crash): (error, seconds if timed out)."""
    out = os.path.join(scratch, "top-%s-%d.json" % (top, index))
    pid = os.fork()
    if pid == 0:
        try:
            quiet()
            write_out(out, import_here(top))
        finally:
            os._exit(0)
    handle = ("fork", pid, out)
    began = time.monotonic()
    if wait_for(handle, timeout):
        return outcome(handle), 0.0
    stop(handle)
    return "", time.monotonic() - began


def merge(loads):
    for key, names in (loads or {}).items():
        if key in SITES_KEYS:
            entry = ALL_LOADS.setdefault(key, {})
            for name, ok in names.items():
                entry[name] = bool(entry.get(name, False) or ok)


SITES_KEYS = {key for lines in SITES.values() for key in lines.values()}
ALL_LOADS = {}
can_fork = hasattr(os, "fork")
ready = set()
root_failed = {}
root_slow = {}


def start(module, index):
    out = os.path.join(scratch, "%d.json" % index)
    if module.split(".")[0] in ready:
        pid = os.fork()
        if pid == 0:
            try:
                quiet()
                write_out(out, "the process ended before the import finished")
                write_out(out, import_here(module))
            finally:
                os._exit(0)
        return ("fork", pid, out)
    import subprocess
    with open(out + ".err", "w") as handle:  # stderr to a file: a pipe could fill up and stall the child
        process = subprocess.Popen([sys.executable, "-B", os.path.abspath(__file__), "child", sys.argv[2], module, out],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=handle)
    return ("spawn", process, out)


def finished(handle):
    kind, what, out = handle
    if kind == "fork":
        if what in handle_done:
            return True
        done, _ = os.waitpid(what, os.WNOHANG)
        if done:
            handle_done.add(what)
        return bool(done)
    return what.poll() is not None


handle_done = set()


def outcome(handle):
    kind, what, out = handle
    try:
        with open(out) as answer:
            data = json.load(answer)
        merge(data.get("loads"))
        error = str(data.get("error", ""))
    except (OSError, ValueError, AttributeError):
        error = None
    if kind == "fork":
        return "the import crashed the process" if error is None else error
    if what.returncode == 0 and error is not None:
        return error
    try:
        err = open(out + ".err", encoding="utf-8", errors="replace").read().strip().splitlines()
    except OSError:
        err = []
    return (err[-1] if err else error or "exit %d" % what.returncode)[:500]


def stop(handle):
    kind, what, out = handle
    if kind == "fork":
        try:
            os.kill(what, signal.SIGKILL)
            os.waitpid(what, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    else:
        what.kill()
        what.wait()


# Import each top-level package once here, where it imports cleanly; children forked from here
# are then a fresh `import pkg.a.b` each. Otherwise each module gets its own interpreter.
# A top-level package that fails to import fails every module below it (Python imports `pkg`
# before `pkg.a.b`), so those modules are answered without starting a process each; one that
# times out (twice: the second try is alone too) leaves every module below it timed out.
index = 0
if can_fork:
    for top in sorted({m.split(".")[0] for m in request["modules"]}):
        if top in blocked:
            continue
        error, slow = probe(top, 0)
        if slow:
            error, slow = probe(top, 1)
        if slow:
            root_slow[top] = slow
        elif error:
            root_failed[top] = error
        elif not import_here(top):
            ready.add(top)
    merge(LOADS)

results = {}
pending = []
for module in request["modules"]:
    top = module.split(".")[0]
    if top in root_slow:
        results[module] = {"ok": False, "timeout": True, "seconds": round(root_slow[top], 1),
                           "error": "`import %s` timed out after %.1fs" % (top, root_slow[top])}
    elif top in root_failed:
        error = root_failed[top]
        results[module] = {"ok": False, "error": error if module == top else "`import %s` fails: %s" % (top, error)}
    else:
        pending.append(module)
running = {}  # index -> (module, start, handle)
slow = []  # timed out once: retried alone after the others

while pending or running:
    while pending and len(running) < jobs:
        module = pending.pop(0)
        running[index] = (module, time.monotonic(), start(module, index))
        index += 1
    for key in list(running):
        module, began, handle = running[key]
        if finished(handle):
            error = outcome(handle)
            results[module] = {"ok": not error, "error": error}
            del running[key]
        elif time.monotonic() - began > timeout:
            stop(handle)
            slow.append(module)
            del running[key]
    orphaned()
    time.sleep(0.005)

# The second try, alone: a loaded machine must not turn a slow import into a failure. Packages
# come before their modules; a module whose package timed out alone again is not retried (importing
# it imports the package first, so it would time out too): it is timed out with the package's time.
slow_again = {}
for module in sorted(slow):
    package = next((p for p in slow_again if module.startswith(p + ".")), None)
    if package is not None:
        seconds = slow_again[package]
        results[module] = {"ok": False, "timeout": True, "seconds": round(seconds, 1),
                           "error": "its package %s timed out after %.1fs (twice; not retried)" % (package, seconds)}
        continue
    began = time.monotonic()
    handle = start(module, index)
    index += 1
    if wait_for(handle, timeout):
        error = outcome(handle)
        results[module] = {"ok": not error, "error": error}
    else:
        stop(handle)
        seconds = time.monotonic() - began
        slow_again[module] = seconds
        results[module] = {"ok": False, "timeout": True, "seconds": round(seconds, 1),
                           "error": "timed out after %.1fs (twice; the second time alone)" % seconds}

with open(request["answer"], "w") as handle:
    json.dump({"results": results, "forked": bool(ready), "loads": ALL_LOADS}, handle)
'''
