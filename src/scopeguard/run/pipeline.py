"""The one-way flow: config -> files -> facts -> graph -> violations.

Facts are the rules' only input: one FileFacts per Python file, and the facts of the project's
packaging and CMake files (BuildFacts), all cached by content. One ScanSettings value, derived from
the config, drives every scan: a plain run, a cached one, and both sides of `check --diff`, which
asks this module for the facts and violations of each side.

The heavy dependency, libcst, is imported only by the step that needs it (scan). With a cache, a
run where no file and no setting changed is answered from the stored result without importing it;
a run where some files changed parses only those, in parallel.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from ..collect import buildopts, packaging
from ..collect.cache import Cache, CachedResult, build_key, content_key, fact_key, result_key
from ..base.safeio import read_regular
from ..config import validate_modules
from ..collect.discover import ModuleFile, discover, module_names
from ..base.model import (
    BuildFacts,
    CMakeFacts,
    Config,
    FileFacts,
    PackagingFacts,
    ScanSettings,
    Violation,
)
from ..collect.parsing import cacheable, scan_files

# A packaging or CMake file larger than this is not read (it is not one a person wrote).
_MAX_BUILD_FILE = 16 * 1024 * 1024

# The files besides Python sources that rules read, by kind: what their facts are made of.
PACKAGING, CMAKE = "packaging", "cmake"


@dataclass(frozen=True)
class Analysis:
    violations: tuple[Violation, ...]
    files_analysed: int
    files_unparsed: int
    from_cache: bool = False
    files_parsed: int = 0  # how many files were parsed this run (cache misses)


@dataclass(frozen=True)
class Facts:
    """Everything rules read about a project's files."""

    files: tuple[FileFacts, ...]  # one per Python file, in discovery order
    build: BuildFacts  # its packaging and CMake files

    @property
    def unparsed(self) -> int:
        return sum(1 for f in self.files if f.error is not None)


@dataclass(frozen=True)
class _Inputs:
    """What one run reads: the Python files and the packaging/CMake files, with content keys."""

    files: tuple[ModuleFile, ...]
    keys: tuple[str | None, ...]  # per Python file (None: unreadable, or no cache)
    build: tuple[tuple[str, str], ...]  # (path, PACKAGING or CMAKE)
    build_keys: tuple[str | None, ...]


def analyse(
    config: Config,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    *,
    cache: Cache | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Analysis:
    inputs = _discover(config, cache)
    selection = f"select={sorted(select)};ignore={sorted(ignore)}"
    key = None
    if cache is not None and all(inputs.keys):
        # Every fact's content key, so a stored result holds only while no input changed (an
        # unreadable packaging/CMake file has no facts: its absence is keyed instead).
        build = [k or f"{path}:{kind}:unreadable" for (path, kind), k in zip(inputs.build, inputs.build_keys, strict=True)]
        key = result_key(cache.scan_key, config, [*inputs.keys, *build], selection)
        hit = cache.load_result(key)
        if hit is not None:
            return Analysis(hit.violations, hit.files_analysed, hit.files_unparsed, from_cache=True)

    facts, parsed, used = _facts(config, inputs, cache, jobs, progress)
    violations = check_facts(config, facts, select, ignore)
    unparsed = facts.unparsed
    analysis = Analysis(tuple(violations), len(facts.files) - unparsed, unparsed, files_parsed=parsed)
    if cache is not None and key is not None and all(used):
        # Keyed by the bytes actually analysed: a file that changed between the lookup and the
        # parse gives a result under its new content, never under the one looked up.
        key = result_key(cache.scan_key, config, used, selection)
        cache.store_result(CachedResult(key, analysis.violations, analysis.files_analysed, analysis.files_unparsed))
    return analysis


def collect(
    config: Config,
    *,
    cache: Cache | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Facts:
    """Facts of every file of the project (from the cache where possible)."""
    return _facts(config, _discover(config, cache), cache, jobs, progress)[0]


def collect_facts(
    config: Config,
    *,
    cache: Cache | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[FileFacts]:
    """Facts for every Python file of the project (collect() has the packaging and CMake files'
    facts too, which rules need)."""
    return list(collect(config, cache=cache, jobs=jobs, progress=progress).files)


def _discover(config: Config, cache: Cache | None) -> _Inputs:
    files = discover(config)
    validate_modules(config, module_names(files))
    build = [(path, CMAKE) for path in buildopts.cmake_files(config.root)]
    build += [(path, PACKAGING) for path in packaging.packaging_files(config)]
    build_keys: list[str | None] = []
    for path, kind in build:
        digest = cache.content_hash(os.path.join(config.root, path), path) if cache is not None else None
        build_keys.append(build_key(digest, path, kind) if digest else None)
    return _Inputs(tuple(files), tuple(_content_keys(files, cache)), tuple(build), tuple(build_keys))


def _content_keys(files: Sequence[ModuleFile], cache: Cache | None) -> list[str | None]:
    """One content key per file (None where it cannot be read, or without a cache)."""
    if cache is None:
        return [None] * len(files)
    keys: list[str | None] = []
    for f in files:
        digest = cache.content_hash(f.abspath, f.path, f.stat)
        keys.append(content_key(digest, f.path, f.module, f.is_package, f.extra) if digest else None)
    return keys


def check_facts(config: Config, facts: Facts, select=(), ignore=()) -> list[Violation]:
    """Facts -> graph -> rules."""
    return violations(context(config, facts), select, ignore)


def context(config: Config, facts: Facts):
    """The analysis context rules see (a Project): the config, the import graph, the build facts."""
    from .. import rules
    from ..analysis.declarations import apply
    from ..analysis.graph import ImportGraph

    files, stale = apply(config, facts.files)
    return rules.Project(config, ImportGraph(files), facts.build, stale)


def violations(project, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Violation]:
    """The selected tree rules' violations, minus inline suppressions, in a stable order."""
    from .. import rules

    return rules.run(project, rules.selected(select, ignore))


def change_violations(change, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Violation]:
    """The selected change rules' (SG5xx) violations of a ChangeSet, minus inline suppressions."""
    from .. import rules
    from ..rules.change import CHANGE_RULES

    return [
        violation
        for rule in rules.selected(select, ignore, among=CHANGE_RULES)
        for violation in rule().check_change(change)
        if not rules.suppressed(change.after, violation)
    ]


def _facts(config: Config, inputs: _Inputs, cache: Cache | None, jobs, progress) -> tuple[Facts, int, list[str | None]]:
    """Facts for every file: from the cache where the content is known, parsed otherwise; the
    number parsed; and the content key of what each input's facts describe (Python files, then
    packaging/CMake files; None where unknown). Parsed facts are stored under the digest of the
    bytes the parser read, never under the key looked up (a file may change in between)."""
    settings = ScanSettings.of(config)
    stored = cache.load_facts() if cache is not None else {}
    files, keys = inputs.files, inputs.keys
    results: list[FileFacts | None] = [_stored(stored, k, FileFacts) for k in keys]
    used: list[str | None] = [k if r is not None else None for k, r in zip(keys, results, strict=True)]
    kept = [k for k in used if k]
    misses = [i for i, r in enumerate(results) if r is None]
    parsed: list[tuple[str, object]] = []
    scanned = scan_files(settings.toggles, [files[i] for i in misses], jobs, progress, settings.registries, config.limits)
    for i, (digest, item) in zip(misses, scanned, strict=True):
        results[i] = item
        if digest is not None and cacheable(item):
            parsed.append((digest, item))
            used[i] = fact_key(digest, item)

    packaging_facts: list[PackagingFacts] = []
    cmake_facts: list[CMakeFacts] = []
    for (path, kind), key in zip(inputs.build, inputs.build_keys, strict=True):
        fact = _stored(stored, key, PackagingFacts if kind == PACKAGING else CMakeFacts)
        if fact is not None:
            kept.append(key)
            used.append(key)
        else:
            data = _read(os.path.join(config.root, path))
            fact = build_facts_of(path, kind, data or b"")
            if data is None:
                used.append(f"{path}:{kind}:unreadable")
            else:
                digest = hashlib.sha256(data).hexdigest()
                parsed.append((digest, fact))
                used.append(fact_key(digest, fact))
        (packaging_facts if kind == PACKAGING else cmake_facts).append(fact)

    if cache is not None:
        cache.store_facts(kept, parsed)
    facts = Facts(tuple(r for r in results if r is not None), BuildFacts(tuple(packaging_facts), tuple(cmake_facts)))
    return facts, len(misses), used


def _stored(stored: dict, key: str | None, kind: type):
    """The stored facts under `key` when they are of the expected type (None otherwise)."""
    fact = stored.get(key) if key else None
    return fact if type(fact) is kind else None


def _read(path: str) -> bytes | None:
    """A packaging/CMake file's bytes: a regular file only, at most _MAX_BUILD_FILE bytes."""
    try:
        return read_regular(path, _MAX_BUILD_FILE)[0]
    except OSError:
        return None


def build_kind(config: Config, path: str) -> str | None:
    """PACKAGING or CMAKE for a project-relative path of a file rules read besides Python files
    (wherever such a file would be looked for, whether or not it exists), else None."""
    if buildopts.is_cmake_path(path):
        return CMAKE
    if packaging.is_packaging_path(config, path):
        return PACKAGING
    return None


def build_facts_of(path: str, kind: str, data: bytes) -> PackagingFacts | CMakeFacts:
    """The facts of one packaging or CMake file, from its bytes."""
    # As reading the file as UTF-8 text with universal newlines would give it.
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return packaging.packaging_facts(path, text) if kind == PACKAGING else buildopts.cmake_facts(path, text)


def facts_at(
    config: Config,
    now: Facts,
    changed: Collection[str],
    python: Sequence[tuple[str, str, bool, bool, bytes]],
    build: Iterable[tuple[str, bytes]],
    jobs: int | None = None,
) -> Facts:
    """The project's facts at another revision (`check --diff`'s BASE): `now` without the files at
    the `changed` paths, plus the facts of files as they were there — Python files as (path,
    module, is_package, extra, content), packaging and CMake files as (path, content) — scanned
    with the same settings as `now`."""
    scanned = scan_sources(config, python, jobs)
    parsed = [build_facts_of(path, kind, data) for path, data in build if (kind := build_kind(config, path))]
    replaced = {*changed, *(f.path for f in scanned), *(f.path for f in parsed)}
    files = [f for f in now.files if f.path not in replaced] + scanned
    packaging_facts = [f for f in now.build.packaging if f.path not in replaced]
    packaging_facts += [f for f in parsed if isinstance(f, PackagingFacts)]
    cmake_facts = [f for f in now.build.cmake if f.path not in replaced] + [f for f in parsed if isinstance(f, CMakeFacts)]
    return Facts(tuple(files), BuildFacts(tuple(packaging_facts), tuple(cmake_facts)))


def scan_sources(config: Config, sources: Sequence[tuple[str, str, bool, bool, bytes]], jobs: int | None = None) -> list[FileFacts]:
    """Facts of Python files not on disk as they are (a file as it was at a git revision), given
    as (path, module, is_package, extra, content): scanned by scan_files, as the working tree's
    files are, from a private temporary folder. Nothing from the tree names a path there."""
    if not sources:
        return []
    import tempfile

    settings = ScanSettings.of(config)
    with tempfile.TemporaryDirectory(prefix="scopeguard-") as folder:
        files = []
        for number, (path, module, is_package, extra, data) in enumerate(sources):
            abspath = os.path.join(folder, f"{number}.py")
            with open(abspath, "wb") as handle:
                handle.write(data)
            files.append(ModuleFile(path, abspath, module, is_package, extra))
        return [facts for _, facts in scan_files(settings.toggles, files, jobs, None, settings.registries, config.limits)]



class Progress:
    """A one-line progress indicator on stderr, shown only on a terminal and after about a second."""

    def __init__(self, stream=None, delay: float = 1.0) -> None:
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.delay = delay
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or (now - self.last < 0.1 and done != total):
            return
        self.last = now
        self.shown = True
        self.stream.write(f"\rscopeguard: parsed {done}/{total} files")
        self.stream.flush()

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
