"""The one-way flow: config -> files -> facts -> graph -> violations.

The heavy dependency, libcst, is imported only by the step that needs it (scan). With a cache, a
run where no file and no setting changed is answered from the stored result without importing it;
a run where some files changed parses only those, in parallel.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import buildopts
from .cache import Cache, CachedResult, content_key, result_key
from .config import validate_modules
from .discover import ModuleFile, discover, module_names
from .model import Config, FileFacts, Violation
from .parsing import cacheable, scan_files


@dataclass(frozen=True)
class Analysis:
    violations: tuple[Violation, ...]
    files_analysed: int
    files_unparsed: int
    from_cache: bool = False
    files_parsed: int = 0  # how many files were parsed this run (cache misses)


def analyse(
    config: Config,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    *,
    cache: Cache | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Analysis:
    files = discover(config)
    validate_modules(config, module_names(files))
    keys = _content_keys(files, cache)
    selection = f"select={sorted(select)};ignore={sorted(ignore)}"
    key = None
    if cache is not None and all(keys):
        key = result_key(cache.scan_key, config, [*keys, *_side_input_keys(config, cache)], selection)
        hit = cache.load_result(key)
        if hit is not None:
            return Analysis(hit.violations, hit.files_analysed, hit.files_unparsed, from_cache=True)

    facts, parsed, parsed_keys = _facts(config, files, keys, cache, jobs, progress)
    violations = check_facts(config, facts, select, ignore)
    unparsed = sum(1 for f in facts if f.error is not None)
    analysis = Analysis(tuple(violations), len(facts) - unparsed, unparsed, files_parsed=parsed)
    if parsed_keys != keys:  # a file changed after it was hashed: the result is of the bytes parsed
        key = None
        if cache is not None and all(parsed_keys):
            key = result_key(cache.scan_key, config, [*parsed_keys, *_side_input_keys(config, cache)], selection)
    if cache is not None and key is not None:
        cache.store_result(CachedResult(key, analysis.violations, analysis.files_analysed, analysis.files_unparsed))
    return analysis


def _side_input_keys(config: Config, cache: Cache) -> list[str]:
    """Content keys of the files other than Python sources that rules read: the CMake files (SG404)
    and the packaging files (SG303). A stored result holds only while these are unchanged too."""
    from . import packaging

    keys = []
    for path in [*buildopts.cmake_files(config.root), *packaging.packaging_files(config)]:
        digest = cache.content_hash(os.path.join(config.root, path), path)
        keys.append(f"{path}:{digest or 'unreadable'}")
    return keys


def collect_facts(
    config: Config,
    *,
    cache: Cache | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[FileFacts]:
    """Facts for every file of the project (from the cache where possible), for commands that
    need more than the violations: `graph`, `delete-plan`, `check --diff`."""
    files = discover(config)
    validate_modules(config, module_names(files))
    return _facts(config, files, _content_keys(files, cache), cache, jobs, progress)[0]


def _content_keys(files: Sequence[ModuleFile], cache: Cache | None) -> list[str | None]:
    """One content key per file (None where it cannot be read, or without a cache)."""
    if cache is None:
        return [None] * len(files)
    keys: list[str | None] = []
    for f in files:
        digest = cache.content_hash(f.abspath, f.path, f.stat)
        keys.append(content_key(digest, f.path, f.module, f.is_package, f.extra) if digest else None)
    return keys


def check_facts(config: Config, facts: Sequence[FileFacts], select=(), ignore=()) -> list[Violation]:
    """Facts -> graph -> rules."""
    from . import rules
    from .graph import ImportGraph

    project = rules.Project(config, ImportGraph(facts))
    return rules.run(project, rules.selected(select, ignore))


def _facts(config, files, keys, cache, jobs, progress) -> tuple[list[FileFacts], int, list[str | None]]:
    """Facts for every file: from the cache where the content is known, parsed otherwise.
    Also the content keys of what the facts were made from: a parsed file's key is the hash of the
    bytes its worker parsed (read once), whatever the file held when it was hashed before."""
    stored = cache.load_facts() if cache is not None else {}
    results: list[FileFacts | None] = [stored.get(k) if k else None for k in keys]
    keys = list(keys)
    misses = [i for i, r in enumerate(results) if r is None]
    scanned = scan_files(config.toggles, [files[i] for i in misses], jobs, progress, config.registries, config.limits)
    for i, (digest, item) in zip(misses, scanned, strict=True):
        f = files[i]
        results[i] = item
        keys[i] = content_key(digest, f.path, f.module, f.is_package, f.extra) if cache is not None and digest else None
    if cache is not None:
        cache.store_facts({k: r for k, r in zip(keys, results, strict=True) if k and r is not None and cacheable(r)})
    return [r for r in results if r is not None], len(misses), keys


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
