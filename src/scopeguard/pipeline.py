"""The one-way flow: config -> files -> facts -> graph -> violations.

The heavy dependency, libcst, is imported only by the step that needs it (scan). With a cache, a
run where no file and no setting changed is answered from the stored result without importing it;
a run where some files changed parses only those, in parallel.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import buildopts
from .cache import Cache, CachedResult, content_key, result_key
from .config import validate_modules
from .discover import ModuleFile, discover, module_names
from .model import Config, FileFacts, ParseError, Registries, Toggle, Violation

# Below this many files to parse, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD = 48


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

    facts, parsed, used_keys = _facts(config, files, keys, cache, jobs, progress)
    violations = check_facts(config, facts, select, ignore)
    unparsed = sum(1 for f in facts if f.error is not None)
    analysis = Analysis(tuple(violations), len(facts) - unparsed, unparsed, files_parsed=parsed)
    if cache is not None and key is not None and all(used_keys):
        # Keyed by the bytes actually analysed: a file that changed between the lookup and the
        # parse gives a result under its new content, never under the one looked up.
        key = result_key(cache.scan_key, config, [*used_keys, *_side_input_keys(config, cache)], selection)
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
    """Facts for every file: from the cache where the content is known, parsed otherwise; and the
    content key of what each file's facts describe (None where unknown)."""
    stored = cache.load_facts() if cache is not None else {}
    results: list[FileFacts | None] = [stored.get(k) if k else None for k in keys]
    used: list[str | None] = [k if r is not None else None for k, r in zip(keys, results, strict=True)]
    misses = [i for i, r in enumerate(results) if r is None]
    parsed: list[tuple[str, FileFacts]] = []
    scanned = scan_files_hashed(config.toggles, [files[i] for i in misses], jobs, progress, config.registries)
    for i, (digest, item) in zip(misses, scanned, strict=True):
        results[i] = item
        if digest is not None and not _internal_error(item):
            parsed.append((digest, item))
            used[i] = content_key(digest, item.path, item.module, item.is_package, item.extra)
    if cache is not None:
        # Parsed facts are stored under the digest of the bytes the parser read, not the looked-up key.
        cache.store_facts([k for k, r in zip(keys, results, strict=True) if k and k in stored], parsed)
    return [r for r in results if r is not None], len(misses), used


def scan_files(
    toggles: Sequence[Toggle],
    files: Sequence[ModuleFile],
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    registries: Registries | None = None,
) -> list[FileFacts]:
    """Parse files, in worker processes when there are enough of them. Order follows `files`."""
    return [facts for _, facts in scan_files_hashed(toggles, files, jobs, progress, registries)]


def scan_files_hashed(
    toggles: Sequence[Toggle],
    files: Sequence[ModuleFile],
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    registries: Registries | None = None,
) -> list[tuple[str | None, FileFacts]]:
    """(sha256 of the bytes parsed, or None when unread, facts) per file, in the order of `files`."""
    if not files:
        return []
    jobs = jobs or os.cpu_count() or 1
    tasks = [(f.abspath, f.path, f.module, f.is_package, f.extra) for f in files]
    if jobs <= 1 or len(files) < _PARALLEL_THRESHOLD:
        _init_worker(tuple(toggles), registries)
        out = []
        for done, task in enumerate(tasks, start=1):
            out.append(_scan_task(task))
            if progress:
                progress(done, len(tasks))
        return out
    from concurrent.futures import ProcessPoolExecutor

    # Largest files first: a 1 MB file parsed last would leave the other workers idle while it runs
    # (torch has several). Results are put back in the caller's order, so the output does not change.
    order = sorted(range(len(tasks)), key=lambda i: _size(files[i].abspath), reverse=True)
    chunksize = max(1, min(8, len(tasks) // (jobs * 16)))
    out: list[tuple[str | None, FileFacts] | None] = [None] * len(tasks)
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(tuple(toggles), registries)) as pool:
            results = pool.map(_scan_task, [tasks[i] for i in order], chunksize=chunksize)
            for done, (i, item) in enumerate(zip(order, results, strict=True), start=1):
                out[i] = item
                if progress:
                    progress(done, len(tasks))
    except (OSError, RuntimeError) as error:  # no fork/semaphores in this sandbox: parse here instead
        print(f"scopeguard: parallel parsing unavailable ({error}); parsing in one process", file=sys.stderr)
        return scan_files_hashed(toggles, files, 1, progress, registries)
    return out


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


_MATCHER = None


def _init_worker(toggles: tuple[Toggle, ...], registries: Registries | None = None) -> None:
    global _MATCHER
    from .scan import ToggleMatcher

    _MATCHER = ToggleMatcher(toggles, registries)


def _scan_task(task) -> tuple[str | None, FileFacts]:
    """One file read once: the facts come from the very bytes that were hashed (a file that changes
    meanwhile cannot leave facts of one content under the hash of another)."""
    import hashlib

    from .safeio import NotRegularFile, TooLarge, read_regular
    from .scan import MAX_FILE_BYTES, scan_source

    abspath, path, module, is_package, extra = task
    try:
        source, _ = read_regular(abspath, MAX_FILE_BYTES)
    except OSError as error:  # never cached: the next run looks again
        if isinstance(error, NotRegularFile):
            reason = "not a regular file (a FIFO, a device or a folder); not analysed"
        elif isinstance(error, TooLarge):
            reason = (f"too large to analyse ({error.size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES >> 20} MB); "
                      "exclude it if it is generated")
        else:
            reason = f"cannot read: {error.strerror or error}"
        return None, FileFacts(path=path, module=module, is_package=is_package, extra=extra,
                               error=ParseError(0, 0, reason))
    digest = hashlib.sha256(source).hexdigest()
    # A syntax tree is hundreds of thousands of acyclic objects that die with the scan; the cyclic
    # collector would walk them again and again while they are built (15-20% of parse time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return digest, scan_source(source, path=path, module=module, is_package=is_package, matcher=_MATCHER,
                                   extra=extra)
    except Exception as error:  # a scanner bug must cost one file, never the run
        reason = f"{_INTERNAL} ({type(error).__name__}: {error}); please report it"
        return digest, FileFacts(path=path, module=module, is_package=is_package, extra=extra,
                                 error=ParseError(1, 1, reason))
    finally:
        if collecting:
            gc.enable()


def _internal_error(facts: FileFacts) -> bool:
    """A scanner crash is not a fact about the file: never cache it."""
    return facts.error is not None and facts.error.reason.startswith(_INTERNAL)


_INTERNAL = "internal error while scanning"


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
