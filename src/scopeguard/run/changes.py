"""`check --diff BASE`: what a change introduces, read from git without touching the repository.

The change is everything between the merge base of BASE and HEAD (as in `git diff BASE...`) and
the working tree, so it covers the branch's commits and anything not yet committed. Only read-only
git commands run (`rev-parse`, `merge-base`, `diff`, `ls-files`, `ls-tree`, `cat-file`), with
optional locks off, so the index is not even refreshed; a detached HEAD (a CI checkout) is fine.

Both sides are compared as import sites: the project as it is now, and the project as it was at
the merge base — the same files, with each changed file replaced by its BASE content (read with
`git cat-file`, scanned by the pipeline), deleted files put back and added files left out.
The same configuration, scan settings and rules judge both sides, and that configuration is
BASE's: the `[tool.scopeguard]` table of the configuration file as it is at the merge base (read
from git, bounded, checked by the same validator), never the change's own. A change that adds
`exclude = ["**"]`, drops a scope's registration, allows an importer or ignores a code would
otherwise judge itself by the rules it just loosened. Each key the change adds, removes or edits
in the table is reported instead (SG007, at its line in the changed file); a BASE without the
table is an error (exit 2): there is no configuration to judge the change by. The user's parse
ceilings apply to both sides (the tree's own limits could make its files unanalysable on both).
The pipeline scans the BASE contents as it scans the working tree (packaging and CMake files
included) and runs the rules. A violation is new when BASE does not have it (matched without line
numbers, as the baseline matches, after mapping renamed files to their new names); the change
rules (SG5xx, SG007) then look at the change itself.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ..collect.discover import ExcludeMatcher, discover, module_names
from ..base.model import Config, Violation
from ..base.paths import module_of, module_prefixes
from ..config import MAX_CONFIG_BYTES, ConfigChange, ConfigError, config_changes, config_from_bytes, linked_outside
from ..base.text import git_path, printable


class GitError(Exception):
    """git cannot answer what --diff needs (no repository, unknown BASE, no common history)."""


@dataclass(frozen=True)
class DiffResult:
    violations: tuple[Violation, ...]  # new tree violations and change-rule violations, sorted
    files_analysed: int
    files_unparsed: int
    preexisting: int  # violations hidden because BASE has them too
    commit: str  # the commit compared against: the merge base of BASE and HEAD
    repo_root: str
    changed_lines: dict[str, frozenset[int]] = field(default_factory=dict)

    def likely_new(self, violation: Violation) -> bool:
        """The violation sits on a line the change added or edited."""
        return violation.line in self.changed_lines.get(violation.path, ())


@dataclass(frozen=True)
class RawChange:
    """One entry of `git diff --name-status`, paths relative to the project root (None: outside it)."""

    status: str  # A, M, D or R
    old_path: str | None
    path: str | None


@dataclass(frozen=True)
class DiffConfig:
    """The configuration `check --diff` judges a change with: BASE's, and how the change edits it."""

    judged: Config  # BASE's [tool.scopeguard], checked for the project as it is now
    changes: tuple[ConfigChange, ...]  # keys the change adds, removes or edits (SG007)
    path: str  # the configuration file, relative to the project root
    commit: str  # the merge base it was read at
    repo: Repository


def diff_config(
    config: Config,
    base: str,
    *,
    source_roots: Sequence[str] | None = None,
    extra_roots: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> DiffConfig:
    """BASE's configuration for the project of `config` (the change's own, as loaded from the
    working tree), and the keys the change edits. The keyword arguments are the command line's
    overrides, applied to BASE's table as they were to the change's.

    Raises GitError (no repository, no BASE, no configuration at BASE: exit 2) or ConfigError
    (BASE's table does not check for the project as it is now, e.g. a source root the change moved).
    """
    if not config.config_path:
        raise GitError("--diff judges a change with BASE's configuration file, and this project has none")
    repo = Repository.find(config.root)
    commit = repo.merge_base(base)
    name = os.path.relpath(config.config_path, config.root).replace(os.sep, "/")
    shown = f"{name} at {base}" + ("" if commit.startswith(base) else f" ({commit[:12]})")
    absent = (
        f"--diff {base}: {shown} has no [tool.scopeguard] table; --diff judges a change with BASE's configuration "
        "(a change must not loosen the checks it is judged by), so land the configuration first, or run "
        "`scopeguard check` without --diff"
    )
    raw = repo.read_config(commit, name)
    if raw is None:
        raise GitError(absent.replace("has no [tool.scopeguard] table", "does not exist"))
    try:
        judged = config_from_bytes(raw, shown, config.root, source_roots=source_roots, extra_roots=extra_roots,
                                   exclude=exclude, ceilings=config.ceilings)
    except ConfigError as error:
        if error.problem == "no [tool.scopeguard] table":
            raise GitError(absent) from None
        raise
    judged = replace(_present(judged), config_path=config.config_path)
    head = _text(config.config_path)
    changes = config_changes(raw.decode("utf-8"), head, repo.line_map(commit, name)) if head is not None else ()
    return DiffConfig(judged, changes, name, commit, repo)


def _present(config: Config) -> Config:
    """BASE's configuration without the names that match nothing in the project as it is now: a
    scope the change deleted together with its registration, an `allow` entry or an extra path it
    removed. They judge nothing there (no module is in them), and the pipeline's check of the
    names would refuse them; the change to the table is reported (SG007) all the same."""
    known: set[str] = set()
    for module in module_names(discover(config)):
        known.add(module)
        known.update(module_prefixes(module))
    scopes = []
    for scope in config.scopes:
        if scope.name not in known:
            continue
        scopes.append(replace(
            scope,
            allow=tuple(a for a in scope.allow if a in known),
            extra_paths=tuple(e for e in scope.extra_paths if os.path.exists(os.path.join(config.root, e))),
        ))
    return replace(config, scopes=tuple(scopes))


def _text(path: str) -> str | None:
    """The configuration file's text as it is now (None when it cannot be read: then no SG007)."""
    from ..base.safeio import read_regular

    try:
        if linked_outside(path) is None:
            return read_regular(path, MAX_CONFIG_BYTES)[0].decode("utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    return None


def check_diff(
    config: Config,
    base: str,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    *,
    cache=None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    setup: DiffConfig | None = None,
) -> DiffResult:
    """What the change since `base` introduces. `config` is the project's configuration as
    loaded from the working tree; the change is judged with BASE's (`setup`, else diff_config())."""
    from . import baseline, pipeline
    from ..rules.change import ChangeSet, FileChange

    setup = setup if setup is not None else diff_config(config, base)
    # Both sides are parsed within the user's ceilings: the limits the pull request's own config
    # sets could make its files unanalysable on both sides, and so "already there".
    config = replace(setup.judged, limits=setup.judged.ceilings)
    repo, commit = setup.repo, setup.commit
    raw = repo.changes(commit)
    changed_lines = repo.changed_lines(commit)

    now = pipeline.collect(config, cache=cache, jobs=jobs, progress=progress)
    now_by_path = {f.path: f for f in now.files}
    touched: set[str] = set()  # paths whose facts now are not BASE's: their BASE content is read below
    files: list[FileChange] = []
    to_read: list[tuple[str, str, bool, bool]] = []  # path at BASE, module, is_package, extra
    build_read: list[str] = []  # packaging and CMake files at BASE
    renamed: dict[str, str] = {}  # graph node at BASE -> node now
    renamed_paths: dict[str, str] = {}
    for item in raw:
        now_facts = now_by_path.get(item.path) if item.path else None
        if item.path is not None:
            touched.add(item.path)
        if item.old_path is not None and pipeline.build_kind(config, item.old_path) is not None:
            build_read.append(item.old_path)
        if item.status == "M":
            if now_facts is None:
                continue  # not a Python file of the project (any more)
            was = (now_facts.module, now_facts.is_package, now_facts.extra)
        else:
            was = classify_path(config, item.old_path) if item.old_path else None
        if was is not None:
            to_read.append((item.old_path, *was))
        if now_facts is None and was is None:
            continue
        if now_facts is not None and was is not None:
            status = "M" if item.status == "M" else "R"
        else:
            status = "A" if now_facts is not None else "D"
        files.append(FileChange(status, item.path if now_facts else None, item.old_path if was else None))
        if status == "R":
            renamed_paths[item.old_path] = item.path
            old_node = item.old_path if was[2] else was[0]
            renamed[old_node] = now_facts.node

    blobs = repo.read_files(commit, [path for path, *_ in to_read] + build_read) if to_read or build_read else []
    python = [(*file, blob) for file, blob in zip(to_read, blobs[: len(to_read)], strict=True) if blob is not None]
    build = [(path, blob) for path, blob in zip(build_read, blobs[len(to_read) :], strict=True) if blob is not None]
    then = pipeline.facts_at(config, now, touched, python, build, jobs)

    after, before = pipeline.context(config, now), pipeline.context(config, then)
    violations_now = pipeline.violations(after, select, ignore)
    known = Counter(
        replace(v, path=renamed_paths.get(v.path, v.path), importer=renamed.get(v.importer, v.importer),
                imported=renamed.get(v.imported, v.imported)).identity
        for v in pipeline.violations(before, select, ignore)
    )
    result = DiffResult((), 0, 0, 0, commit, repo.root, changed_lines)
    new, old = baseline.split(violations_now, known, result.likely_new)
    # A file the change touched that cannot be analysed hides what the change put into it: its
    # SG001 is new even when BASE's version could not be analysed either.
    hidden = [v for v in old if v.code == "SG001" and v.path in touched]
    new += hidden
    old = [v for v in old if not (v.code == "SG001" and v.path in touched)]

    change = ChangeSet(after, before, tuple(sorted(files, key=lambda f: (f.path or f.old_path or ""))), changed_lines, renamed,
                       config_path=setup.path, config_changes=setup.changes)
    new += pipeline.change_violations(change, select, ignore)
    unparsed = now.unparsed
    return DiffResult(
        violations=tuple(sorted(new, key=lambda v: v.sort_key)),
        files_analysed=len(now.files) - unparsed,
        files_unparsed=unparsed,
        preexisting=len(old),
        commit=commit,
        repo_root=repo.root,
        changed_lines=changed_lines,
    )


def classify_path(config: Config, path: str) -> tuple[str, bool, bool] | None:
    """(module, is_package, extra) for a project-relative path, as discovery would name it, or None
    when discovery would not list it (not Python, excluded, outside every root, hidden folder).

    For files that exist only at BASE (deleted, renamed away), which discovery cannot walk.
    """
    if not path.endswith(".py") or ExcludeMatcher(config.exclude)(path):
        return None
    roots = [(r, False) for r in config.source_roots] + [(r, True) for r in config.extra_roots]
    for root, extra in roots:
        root = os.path.relpath(os.path.normpath(os.path.join(config.root, root)), config.root).replace(os.sep, "/")
        if root == ".":
            relative = path
        elif path.startswith(root + "/"):
            relative = path[len(root) + 1 :]
        else:
            continue
        parts = relative.split("/")
        if any(part.startswith(".") or part in ("__pycache__", "node_modules") for part in parts[:-1]):
            return None
        named = module_of(parts)
        if named is None:
            return None
        return named[0], named[1], extra
    return None


class Repository:
    """Read-only access to the git repository that holds the project."""

    def __init__(self, root: str, project: str) -> None:
        self.root = root  # the work tree's top folder
        relative = os.path.relpath(project, root).replace(os.sep, "/")
        self.prefix = "" if relative == "." else relative + "/"  # the project's folder in the repository

    @classmethod
    def find(cls, project_root: str) -> Repository:
        done = _git(project_root, "rev-parse", "--show-toplevel")
        if done.returncode != 0:
            raise GitError(
                f"--diff needs a git repository, and {project_root} is not inside one ({_first_line(done.stderr)})"
            )
        top = os.fsdecode(done.stdout.rstrip(b"\n"))
        return cls(os.path.realpath(top), os.path.realpath(project_root))

    def merge_base(self, base: str) -> str:
        """The commit to compare with: where HEAD's history meets BASE's (BASE itself when it is an
        ancestor of HEAD, as in CI where BASE is the target branch)."""
        if not base or base.startswith("-"):
            raise GitError(f"--diff {base!r}: not a commit, branch or tag name")
        done = _git(self.root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
        if done.returncode != 0:
            raise GitError(
                f"--diff {base}: no such commit, branch or tag in {self.root}; check the name, or in a "
                f"shallow CI checkout fetch it first (e.g. `{_fetch_hint(base)}`, or `fetch-depth: 0`)"
            )
        commit = done.stdout.decode().strip()
        if _git(self.root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").returncode != 0:
            return commit  # no commit yet on this branch: compare the working tree with BASE
        done = _git(self.root, "merge-base", commit, "HEAD")
        if done.returncode != 0:
            raise GitError(
                f"--diff {base}: it shares no history with HEAD in this checkout (a shallow clone? fetch "
                "more history, e.g. `git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)"
            )
        return done.stdout.decode().strip()

    def _pathspec(self) -> list[str]:
        return ["--", self.prefix or "."]

    def changes(self, commit: str) -> list[RawChange]:
        """Files changed between `commit` and the working tree, with renames, plus untracked files."""
        done = _git(self.root, "diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", commit, *self._pathspec())
        if done.returncode != 0:
            raise GitError(f"git diff failed: {_first_line(done.stderr)}")
        fields = [os.fsdecode(f) for f in done.stdout.split(b"\0")]
        out: list[RawChange] = []
        i = 0
        while i < len(fields) and fields[i]:
            status = fields[i][0]
            if status in "RC":
                old, new = fields[i + 1], fields[i + 2]
                i += 3
                if status == "R":
                    out.append(RawChange("R", self._local(old), self._local(new)))
                else:  # a copy: the source is unchanged, the copy is new
                    out.append(RawChange("A", None, self._local(new)))
                continue
            path = self._local(fields[i + 1])
            i += 2
            if status == "A":
                out.append(RawChange("A", None, path))
            elif status == "D":
                out.append(RawChange("D", path, None))
            else:  # M, T (type change), U (unmerged): the same path on both sides
                out.append(RawChange("M", path, path))
        done = _git(self.root, "ls-files", "-z", "--others", "--exclude-standard", *self._pathspec())
        if done.returncode == 0:
            out += [RawChange("A", None, self._local(os.fsdecode(p))) for p in done.stdout.split(b"\0") if p]
        return [c for c in out if c.old_path is not None or c.path is not None]

    def changed_lines(self, commit: str) -> dict[str, frozenset[int]]:
        """Per project-relative path (after the change), the lines the change added or edited.

        One `git diff --raw -z -p -U0`: the raw part names every file pair NUL-separated, exactly
        (nothing is unescaped); the patch part follows, one `diff --git` header per pair in the same
        order. A header is recognised only between hunks (a hunk's `@@ -a,b +c,d @@` says how many
        lines belong to it, so an added line `++ "x"` is content, never a header) and is matched to
        its pair by spelling the pair's names as git quotes them (core.quotePath pinned on)."""
        done = _git(
            self.root, "-c", "core.quotePath=true", "diff", "--raw", "-z", "-p", "-U0", "-M", "--no-color",
            "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", commit, *self._pathspec(),
        )
        if done.returncode != 0:
            return {}
        raw, _, patch = done.stdout.partition(b"\0\0")  # the raw part ends with an empty field
        pairs = _raw_pairs(raw)
        headers = {_diff_header(old, new): new for old, new in pairs}
        lines: dict[str, set[int]] = {}
        current: str | None = None
        old_left = new_left = 0  # lines of the open hunk still to read
        for line in patch.split(b"\n"):
            if old_left or new_left:
                if line.startswith(b"-") and old_left:
                    old_left -= 1
                elif line.startswith(b"+") and new_left:
                    new_left -= 1
                elif line.startswith(b" "):
                    old_left, new_left = max(old_left - 1, 0), max(new_left - 1, 0)
                continue  # content (or git's "\\ No newline" marker)
            if line.startswith(b"diff --git "):
                new = headers.get(line)
                current = self._local(new) if new is not None else None
            elif line.startswith(b"@@ -"):
                hunk = _HUNK.match(line)
                if hunk is None:
                    continue
                old_left = int(hunk.group(2)) if hunk.group(2) is not None else 1
                first = int(hunk.group(3))
                new_left = length = int(hunk.group(4)) if hunk.group(4) is not None else 1
                if current is not None:
                    lines.setdefault(current, set()).update(range(first, first + length) if length else [max(first, 1)])
        return {path: frozenset(found) for path, found in lines.items()}

    def read_files(self, commit: str, paths: list[str]) -> list[bytes | None]:
        """The content of project-relative `paths` at `commit` (None where absent), in one git call."""
        request = b"".join(os.fsencode(f"{commit}:{self.prefix}{p}") + b"\n" for p in paths)
        done = _git(self.root, "cat-file", "--batch", input=request)
        if done.returncode != 0:
            raise GitError(f"git cat-file failed: {_first_line(done.stderr)}")
        out: list[bytes | None] = []
        data, at = done.stdout, 0
        for _ in paths:
            end = data.index(b"\n", at)
            header = data[at:end].split(b" ")
            at = end + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                out.append(data[at : at + size])
                at += size + 1  # the content is followed by a newline
            else:  # "<name> missing", or not a file
                if len(header) == 3:
                    at += int(header[2]) + 1
                out.append(None)
        return out

    def read_config(self, commit: str, path: str, limit: int = MAX_CONFIG_BYTES) -> bytes | None:
        """A project-relative file at `commit` (None when absent), read bounded: its size is asked
        first and more than `limit` bytes is refused (GitError). A symlink committed there is
        followed while it stays inside the project (at most 8 links), as the working tree would."""
        for _hop in range(8):
            done = _git(self.root, "ls-tree", "-z", "--full-tree", commit, "--", self.prefix + path)
            if done.returncode != 0:
                raise GitError(f"git ls-tree failed: {_first_line(done.stderr)}")
            entry = done.stdout.split(b"\0", 1)[0]
            if not entry:
                return None
            mode, kind, sha = entry.split(b"\t", 1)[0].split(b" ")
            if kind != b"blob":
                return None
            size = _git(self.root, "cat-file", "-s", sha.decode())
            if size.returncode != 0:
                raise GitError(f"git cat-file failed: {_first_line(size.stderr)}")
            length = int(size.stdout.strip() or b"0")
            if length > (limit if mode != b"120000" else 4096):
                raise GitError(f"{path} at {commit[:12]}: {length} bytes, above the limit of {limit}; "
                               "a pyproject.toml is a few kB")
            blob = _git(self.root, "cat-file", "blob", sha.decode())
            if blob.returncode != 0:
                raise GitError(f"git cat-file failed: {_first_line(blob.stderr)}")
            if mode != b"120000":
                return blob.stdout
            target = os.fsdecode(blob.stdout)
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
                raise GitError(f"{path} at {commit[:12]} is a symlink to {printable(target)}, outside the project; "
                               "scopeguard does not read a configuration from outside the project")
            path = resolved
        raise GitError(f"{path} at {commit[:12]}: too many symlinks")

    def line_map(self, commit: str, path: str) -> Callable[[int], int]:
        """Line numbers of a project-relative file at `commit` mapped to the working tree's, from
        the hunks of `git diff -U0` (a line the change removed maps to where it was removed)."""
        done = _git(self.root, "diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", commit, "--",
                    self.prefix + path)
        hunks: list[tuple[int, int, int, int]] = []
        if done.returncode == 0:
            for line in done.stdout.split(b"\n"):
                match = _HUNK.match(line) if line.startswith(b"@@ -") else None
                if match:
                    old, new = int(match.group(1)), int(match.group(3))
                    old_len = int(match.group(2)) if match.group(2) is not None else 1
                    new_len = int(match.group(4)) if match.group(4) is not None else 1
                    hunks.append((old, old_len, new, new_len))
        return lambda line: _map_line(hunks, line)

    def _local(self, repo_path: str) -> str | None:
        """A repository path as a project-relative one (None when outside the project)."""
        if not self.prefix:
            return repo_path
        return repo_path[len(self.prefix) :] if repo_path.startswith(self.prefix) else None


def _git(cwd: str, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    # GIT_OPTIONAL_LOCKS=0: no opportunistic index refresh, so nothing in .git is written.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise GitError("--diff needs git, and `git` is not on PATH") from None


def _first_line(stderr: bytes) -> str:
    text = stderr.decode(errors="replace").strip()
    return text.splitlines()[0] if text else "no message"


_HUNK = re.compile(rb"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _raw_pairs(raw: bytes) -> list[tuple[str, str]]:
    """(old path, new path) of each entry of `git diff --raw -z`: `:modes shas STATUS\\0path\\0`,
    with a second path for renames and copies."""
    fields = raw.split(b"\0")
    pairs, i = [], 0
    while i + 1 < len(fields):
        status = fields[i].rsplit(b" ", 1)[-1]
        if status[:1] in (b"R", b"C") and i + 2 < len(fields):
            pairs.append((os.fsdecode(fields[i + 1]), os.fsdecode(fields[i + 2])))
            i += 3
        else:
            pairs.append((os.fsdecode(fields[i + 1]), os.fsdecode(fields[i + 1])))
            i += 2
    return pairs


def _diff_header(old: str, new: str) -> bytes:
    """The `diff --git` line git prints for a pair (its names C-quoted as git quotes them)."""
    return os.fsencode(f"diff --git {git_path('a/' + old)} {git_path('b/' + new)}")


def _map_line(hunks: list[tuple[int, int, int, int]], line: int) -> int:
    """`line` of the old side through `git diff -U0` hunks (old start, old length, new start,
    new length) to the new side; a removed line maps to the first line after the removal."""
    shift = 0
    for old, old_len, new, new_len in hunks:
        if old_len and old <= line < old + old_len:
            return new if new_len else new + 1
        if (old_len and old + old_len <= line) or (not old_len and old < line):
            shift += new_len - old_len
        else:
            break
    return max(line + shift, 1)


def _fetch_hint(base: str) -> str:
    """The fetch that creates `base`: `origin/main` is branch main of remote origin."""
    remote, _, branch = base.partition("/")
    if branch and remote and not remote.startswith("refs"):
        return f"git fetch {remote} {branch}"
    return f"git fetch origin {base}"
