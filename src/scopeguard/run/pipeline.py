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

import dataclasses
import hashlib
import os
import sys
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from ..collect import buildopts, packaging
from ..collect.cache import (
    Cache,
    CachedResult,
    Record,
    build_key,
    content_key,
    decode_record,
    encode_record,
    fact_key,
    facts_key,
    record_identity,
    result_key,
)
from ..base.safeio import read_regular
from ..config import validate_modules
from ..collect.codec import StaleRecord, forget_pending
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

    gathered = _Gathered(config, inputs, cache, jobs, progress)
    if cache is not None and key is not None:
        # The files changed, but perhaps not their facts (a comment, a blank line): the result is
        # a function of the facts, so one stored for the same facts holds. Nothing is decoded.
        identities = gathered.identities()
        if identities is not None:
            fkey = facts_key(cache.scan_key, config, identities, selection)
            hit = cache.load_result(key, fkey)
            if hit is not None and hit.facts_key == fkey:
                gathered.store()
                if all(gathered.used):
                    cache.rekey_result(result_key(cache.scan_key, config, gathered.used, selection))
                return Analysis(hit.violations, hit.files_analysed, hit.files_unparsed, from_cache=True,
                                files_parsed=gathered.parsed_count)
    try:
        facts, parsed, used, resolver, identities = _complete(gathered, lazy=True)
        project = context(config, facts, resolver)
        found = violations(project, select, ignore)
        resolver.save(project.graph)
    except StaleRecord:
        # A stored field did not decode when read: everything again, every record decoded now
        # (one that does not decode is parsed again).
        forget_pending()
        facts, parsed, used, resolver, identities = _complete(gathered)
        found = check_facts(config, facts, select, ignore, resolver=resolver)
    finally:
        forget_pending()
    unparsed = facts.unparsed
    analysis = Analysis(tuple(found), len(facts.files) - unparsed, unparsed, files_parsed=parsed)
    if cache is not None and key is not None and all(used):
        # Keyed by the bytes actually analysed: a file that changed between the lookup and the
        # parse gives a result under its new content, never under the one looked up.
        key = result_key(cache.scan_key, config, used, selection)
        fkey = facts_key(cache.scan_key, config, identities, selection) if identities is not None else ""
        cache.store_result(CachedResult(key, analysis.violations, analysis.files_analysed, analysis.files_unparsed,
                                        fkey))
    return analysis


def collect(
    config: Config,
    *,
    cache: Cache | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Facts:
    """Facts of every file of the project (from the cache where possible)."""
    return _complete(_Gathered(config, _discover(config, cache), cache, jobs, progress))[0]


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


def check_facts(config: Config, facts: Facts, select=(), ignore=(), *, resolver=None) -> list[Violation]:
    """Facts -> graph -> rules."""
    return violations(context(config, facts, resolver), select, ignore)


def context(config: Config, facts: Facts, resolver=None):
    """The analysis context rules see (a Project): the config, the import graph, the build facts.
    `resolver` stands for reachability's `resolve` (analyse passes one that reuses a stored result)."""
    from .. import rules
    from ..analysis.declarations import apply
    from ..analysis.graph import ImportGraph

    files, stale = apply(config, facts.files)
    graph = ImportGraph(files) if resolver is None else ImportGraph(files, resolver)
    if resolver is not None and hasattr(resolver, "prime"):
        resolver.prime(graph)
    return rules.Project(config, graph, facts.build, stale)


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


class _Gathered:
    """Every file's facts as records: stored ones undecoded, the missing ones parsed (the workers
    parse, and import libcst, while this process reads the store)."""

    def __init__(self, config: Config, inputs: _Inputs, cache: Cache | None, jobs, progress) -> None:
        from ..collect.parsing import prestart, start_scan  # not on the path of a run with nothing changed

        self.config, self.inputs, self.cache, self.jobs = config, inputs, cache, jobs
        self.settings = settings = ScanSettings.of(config)
        pool = None
        if cache is not None and cache.usable:
            # A worker that imports libcst while this process reads the store (a file or two
            # changed: that import is most of the run).
            from ..collect import early

            pool = prestart(settings.toggles, settings.registries, config.limits, adopted=early.take())
        try:
            self.records = records = cache.load_records() if cache is not None else {}
        except BaseException:
            if pool is not None:
                pool.close(kill=True)
            raise
        files, keys = inputs.files, inputs.keys
        self.found = [_record(records, k, "py") for k in keys]
        self.misses = [i for i, r in enumerate(self.found) if r is None]
        scan = start_scan(settings.toggles, [files[i] for i in self.misses], jobs, progress, settings.registries,
                          config.limits, pool=pool)
        try:
            self.scanned = scan.wait()
        finally:
            scan.close()
        self.build_found = [_record(records, key, kind) for (_, kind), key in zip(inputs.build, inputs.build_keys,
                                                                                  strict=True)]

    @property
    def parsed_count(self) -> int:
        return len(self.misses)

    def identities(self) -> list[str] | None:
        from ..collect.parsing import cacheable

        """record_identity of every file's facts, Python files then packaging/CMake files; None when
        one is not known without decoding or parsing more (a packaging file not in the store, facts
        that are not stored)."""
        out: list[str] = []
        parsed = iter(zip(self.misses, self.scanned, strict=True))
        new = {i: (digest, item, record) for i, (digest, item, record) in parsed}
        for i, record in enumerate(self.found):
            if record is not None:
                out.append(record_identity(self.inputs.keys[i], record))  # type: ignore[arg-type]
                continue
            digest, item, record = new[i]
            if digest is None or not cacheable(item):
                return None
            out.append(record_identity(fact_key(digest, item), record or encode_record(item)))
        for key, record in zip(self.inputs.build_keys, self.build_found, strict=True):
            if record is None:
                return None
            out.append(record_identity(key, record))  # type: ignore[arg-type]
        return out

    @property
    def used(self) -> list[str | None]:
        """The content key of each input's facts on the shortcut (identities() known: nothing late)."""
        keys = list(self.inputs.keys)
        for i, (digest, item, _record) in zip(self.misses, self.scanned, strict=True):
            keys[i] = fact_key(digest, item) if digest is not None else None
        return keys + list(self.inputs.build_keys)

    def store(self) -> None:
        """Store the parsed files' facts (the shortcut: every other entry is kept as it is)."""
        from ..collect.parsing import cacheable

        if self.cache is None:
            return
        kept = [k for k, r in zip(self.inputs.keys, self.found, strict=True) if r is not None]
        kept += [k for k in self.inputs.build_keys if k]
        parsed = [(digest, item, record) for _, (digest, item, record) in zip(self.misses, self.scanned, strict=True)
                  if digest is not None and cacheable(item)]
        self.cache.store_facts(kept, parsed)


def _complete(gathered: _Gathered, lazy: bool = False):
    """Facts for every file: from the cache where the content is known, parsed otherwise; the
    number parsed; the content key of what each input's facts describe (Python files, then
    packaging/CMake files; None where unknown); the resolver that stands for reachability; and the
    record_identity of every file's facts (None where one is not stored).
    Parsed facts are stored under the digest of the bytes the parser read, never under the key
    looked up (a file may change in between).

    `lazy`: each stored call-fact field is decoded when first read (codec.lazy_file_facts), so
    that every reader — reachability, the analysis of unknown dynamic imports, the project's
    declarations, SG405 — gets what a full decode gives, and a run whose project-level results are
    stored with their inputs' digests decodes none; a field that does not decode raises
    codec.StaleRecord. Otherwise stored facts are decoded whole."""
    from ..collect.parsing import cacheable, start_scan

    config, inputs, cache, jobs = gathered.config, gathered.inputs, gathered.cache, gathered.jobs
    settings, records = gathered.settings, gathered.records
    files, keys = inputs.files, inputs.keys
    found, misses, scanned = gathered.found, gathered.misses, list(gathered.scanned)
    results: list[FileFacts | None] = [None] * len(files)
    digests: list[str | None] = [None] * len(files)  # of each file's reachability inputs
    stored: list[Record | None] = [None] * len(files)  # each file's record (for _StoredReach's views)
    identities: list[str | None] = [None] * len(files)
    late: list[int] = []  # stored entries that do not decode: parsed after all
    for i, record in enumerate(found):
        if record is None:
            continue
        item = decode_record(keys[i], record, lazy)  # type: ignore[arg-type]
        if type(item) is not FileFacts:
            late.append(i)
            continue
        results[i] = item
        digests[i] = record.reach_digest
        stored[i] = record
        identities[i] = record_identity(keys[i], record)  # type: ignore[arg-type]
    if late:
        scanned += start_scan(settings.toggles, [files[i] for i in late], jobs, None, settings.registries,
                              config.limits).wait()
    used: list[str | None] = [k if r is not None else None for k, r in zip(keys, results, strict=True)]
    kept = [k for k in used if k]
    parsed: list[tuple] = []
    for i, (digest, item, record) in zip([*misses, *late], scanned, strict=True):
        results[i] = item
        record = record or encode_record(item)
        digests[i] = record.reach_digest
        stored[i] = record
        if digest is not None and cacheable(item):
            parsed.append((digest, item, record))
            used[i] = fact_key(digest, item)
            identities[i] = record_identity(used[i], record)  # type: ignore[arg-type]

    packaging_facts: list[PackagingFacts] = []
    cmake_facts: list[CMakeFacts] = []
    for (path, kind), key in zip(inputs.build, inputs.build_keys, strict=True):
        record = _record(records, key, kind)
        fact = decode_record(key, record) if record is not None else None  # type: ignore[arg-type]
        if type(fact) is (PackagingFacts if kind == PACKAGING else CMakeFacts):
            kept.append(key)  # type: ignore[arg-type]
            used.append(key)
            identities.append(record_identity(key, record))  # type: ignore[arg-type]
        else:
            data = _read(os.path.join(config.root, path))
            fact = build_facts_of(path, kind, data or b"")
            if data is None:
                used.append(f"{path}:{kind}:unreadable")
                identities.append(None)
            else:
                digest = hashlib.sha256(data).hexdigest()
                parsed.append((digest, fact))
                used.append(fact_key(digest, fact))
                identities.append(record_identity(used[-1], encode_record(fact)))  # type: ignore[arg-type]
        (packaging_facts if kind == PACKAGING else cmake_facts).append(fact)

    if cache is not None:
        cache.store_facts(kept, parsed)
    python = [r for r in results if r is not None]
    facts = Facts(tuple(python), BuildFacts(tuple(packaging_facts), tuple(cmake_facts)))
    by_node = {item.node: digest for item, digest in zip(results, digests) if item is not None}
    records_by_node = {item.node: record for item, record in zip(results, stored) if item is not None}
    resolver = _StoredReach(cache, by_node, repr(config.dynamic_imports), records_by_node)
    known = identities if all(i is not None for i in identities) else None
    return facts, len(misses) + len(late), used, resolver, known


def _record(records: dict[str, Record], key: str | None, kind: str) -> Record | None:
    """The stored entry under `key` when it holds facts of the expected kind (None otherwise)."""
    record = records.get(key) if key else None
    return record if record is not None and record.kind == kind else None


class _StoredReach:
    """Reachability (analysis.reachability.resolve) with its result stored in the cache, keyed by
    the digests of every file's reachability inputs (cache.REACH_INPUTS): a run whose inputs are
    those of the stored result reuses it; any other run resolves and stores the new result.
    Identical to resolve: the stored value is exactly what resolve returned for the same inputs.

    One step further (issue 28): the stored result also keeps, per file, the digest of its inputs
    and of what of them the analyses can see (`_view`: the inputs with the import sites no reader
    sees left out, reachability.visible_sites). A run where only some files' inputs changed, and
    each of those files' view is the stored one (an import of a standard module appended, say),
    takes the stored result as well: no reader could have seen the difference."""

    # A reuse compares views of at most this many changed files (each is encoded once); beyond it,
    # the analysis runs again.
    MAX_CHANGED = 32

    def __init__(self, cache: Cache | None, digests: dict[str, str | None], declared: str = "",
                 records: dict[str, Record | None] | None = None) -> None:
        self.cache = cache
        self.digests = digests
        self.declared = declared  # the config's dynamic-import declarations change the files resolved
        self.records = records or {}
        self.key: str | None = None  # of the last call's inputs
        self.reused_from: str | None = None  # the key of a stored result taken for other inputs
        self.primed = False

    # The open dynamic imports (analysis.unknowns.dynamic_sites) are a function of the graph's files
    # after reachability, so of the same inputs: stored under the same key, put on the graph where
    # dynamic_sites keeps what it computed. Their analysis reads every file's call facts.

    def prime(self, graph) -> None:
        if self.key is None or self.cache is None:
            return
        stored = self.cache.load_unknowns(self.key)
        if stored is None and self.reused_from is not None:
            stored = self.cache.load_unknowns(self.reused_from)
            if stored is not None:
                self.cache.store_unknowns(self.key, stored)
        if stored is None:
            return
        from ..analysis.unknowns import DynamicSite
        from ..collect.codec import Invalid, decoder

        try:
            if type(stored) is not list:
                return
            sites = [decoder(DynamicSite)(value) for value in stored]
        except (Invalid, TypeError, ValueError, RecursionError):
            return
        graph._scopeguard_dynamic_sites = sites
        self.primed = True

    def save(self, graph) -> None:
        """Store what dynamic_sites computed for this graph, if it was asked (and not primed)."""
        sites = getattr(graph, "_scopeguard_dynamic_sites", None)
        if self.primed or sites is None or self.key is None or self.cache is None:
            return
        from ..analysis.unknowns import DynamicSite
        from ..collect.codec import encoder

        if not all(type(site) is DynamicSite for site in sites):
            return
        encode = encoder(DynamicSite)
        self.cache.store_unknowns(self.key, [encode(site) for site in sites])

    def __call__(self, files: dict[str, FileFacts], modules: frozenset[str]):
        from ..analysis.reachability import resolve

        key = self.key = self._key(files)
        self.reused_from = None
        base = self._base(modules)
        if key is not None and self.cache is not None:
            entry = self.cache.load_reach_entry()
            if entry is not None:
                stored_key, stored = entry
                if stored_key == key or self._fits(stored_key, stored, files, modules, base):
                    reach = _decode_reach(stored, files)
                    if reach is not None:
                        if stored_key != key:
                            self.reused_from = stored_key
                            self.cache.store_reach(key, {**stored, "inputs": self._inputs(files, modules, base, stored)})
                        return reach
        reach = resolve(files, modules)
        if key is not None and self.cache is not None:
            encoded = _encode_reach(reach, files)
            if encoded is not None:
                encoded["inputs"] = self._inputs(files, modules, base)
                self.cache.store_reach(key, encoded)
        return reach

    def _base(self, modules: frozenset[str]) -> str:
        """What every view is seen against: the settings, the declarations and the modules."""
        scan_key = self.cache.scan_key if self.cache is not None else ""
        return hashlib.sha256("\n".join(["views", scan_key, self.declared, *sorted(modules)]).encode(
            "utf-8", "surrogateescape")).hexdigest()

    def _fits(self, stored_key: str, stored, files: dict[str, FileFacts], modules: frozenset[str], base: str) -> bool:
        """Whether a stored result computed for other inputs holds for these: the same files, the
        same modules and settings, and every file whose inputs differ seen alike (its view). The
        stored inputs must be those its key was made from."""
        inputs = stored.get("inputs") if type(stored) is dict else None
        if type(inputs) is not dict or inputs.get("base") != base:
            return False
        digests, views = inputs.get("digests"), inputs.get("views")
        if type(digests) is not dict or type(views) is not dict or digests.keys() != files.keys() \
                or not all(type(d) is str for d in digests.values()):
            return False
        changed = [node for node in files if digests[node] != self.digests.get(node)]
        if not changed or len(changed) > self.MAX_CHANGED or self._key_of(digests) != stored_key:
            return False
        return all(type(views.get(node)) is str and views[node] == self._view(node, files[node], modules)
                   for node in changed)

    def _inputs(self, files: dict[str, FileFacts], modules: frozenset[str], base: str, stored=None) -> dict:
        """Per file, the digest of its inputs and of its view (a reused result keeps the stored views
        of the files whose inputs did not change, and the changed files' views, equal by then)."""
        digests = {node: self.digests[node] for node in files}
        old = stored.get("inputs") if type(stored) is dict else None
        old_digests = old.get("digests") if type(old) is dict else None
        old_views = old.get("views") if type(old) is dict else None
        if type(old_digests) is not dict or type(old_views) is not dict:
            old_digests, old_views = {}, {}
        views = {}
        for node in files:
            view = old_views.get(node)
            if old_digests.get(node) != digests[node] or type(view) is not str:
                view = self._view(node, files[node], modules)
            views[node] = view
        return {"base": base, "digests": digests, "views": views}

    def _view(self, node: str, facts: FileFacts, modules: frozenset[str]) -> str | None:
        """The digest of what the analyses can see of a file's reachability inputs: its record's
        digest when every site is seen, else that of its inputs with the unseen sites left out
        (None: no record to digest)."""
        from ..analysis.reachability import visible_sites

        record = self.records.get(node)
        if record is None:
            return None
        sites = visible_sites(facts, modules)
        if sites is facts.sites:
            return record.reach_digest  # what _view_digest gives for all the sites
        return _view_digest(facts, sites, record)

    def _key(self, files: dict[str, FileFacts]) -> str | None:
        digests = {node: self.digests.get(node) for node in files}
        if any(digest is None for digest in digests.values()):
            return None
        return self._key_of(digests)  # type: ignore[arg-type]

    def _key_of(self, digests: dict[str, str]) -> str:
        parts = sorted(f"{node}\0{digest}" for node, digest in digests.items())
        scan_key = self.cache.scan_key if self.cache is not None else ""
        return hashlib.sha256("\n".join(["reach", scan_key, self.declared, *parts]).encode("utf-8", "surrogateescape")).hexdigest()


def _view_digest(facts: FileFacts, sites, record: Record) -> str:
    """The digest of a file's reachability inputs with `sites` for its sites, made as the record's
    reach digest is (codec.encode_record): with every site, it is that digest."""
    from ..collect.codec import _dumps, encoder, reach_fields

    _, inputs, _ = reach_fields()
    names = [f.name for f in dataclasses.fields(FileFacts)]
    hints = _hints()
    values = [encoder(hints[names[i]])(sites if names[i] == "sites" else getattr(facts, names[i])) for i in inputs]
    return hashlib.sha256(_dumps(values) + b"\n" + record.reach).hexdigest()


_HINTS: dict | None = None


def _hints() -> dict:
    global _HINTS
    if _HINTS is None:
        import typing

        _HINTS = typing.get_type_hints(FileFacts)
    return _HINTS


class ResidentReach:
    """Reachability (analysis.reachability.resolve) for a process that keeps the project in memory
    (`scopeguard server`): the last result is kept with the facts it was computed from. When the
    facts given next differ only in files (at most MAX_CHANGED) whose reachability inputs every
    reader sees alike (`_seen_alike`: equal, but for import sites no reader sees), the last result
    holds, with those files' facts put in; so do the open dynamic imports computed on its graph.
    Otherwise it resolves again. Identical to resolve, as _StoredReach is."""

    MAX_CHANGED = 32

    def __init__(self) -> None:
        self.files: dict[str, FileFacts] | None = None  # the facts of the last result
        self.modules: frozenset[str] | None = None
        self.reach = None
        self.sites = None  # the open dynamic imports of the last result's graph, once computed
        self.reused = False

    def __call__(self, files: dict[str, FileFacts], modules: frozenset[str]):
        from ..analysis.reachability import Reach, resolve

        last = self.files
        if last is not None and self.reach is not None and modules == self.modules and last.keys() == files.keys():
            changed = [node for node, item in files.items() if item is not last[node]]
            if len(changed) <= self.MAX_CHANGED and all(_seen_alike(last[n], files[n], modules) for n in changed):
                out = {}
                for node, item in files.items():
                    before = self.reach.files[node]
                    if before is last[node] or item is last[node]:
                        out[node] = item if before is last[node] else before
                    else:  # reachability updated the file's unresolved imports: the same update
                        out[node] = dataclasses.replace(item, unresolved=before.unresolved)
                self.reach = Reach(out, self.reach.written, self.reach.origins, self.reach.aliases)
                self.files, self.reused = dict(files), True
                return self.reach
        self.reach = resolve(files, modules)
        self.files, self.modules, self.sites, self.reused = dict(files), modules, None, False
        return self.reach

    def prime(self, graph) -> None:
        if self.reused and self.sites is not None:
            graph._scopeguard_dynamic_sites = self.sites

    def save(self, graph) -> None:
        self.sites = getattr(graph, "_scopeguard_dynamic_sites", None)


def _seen_alike(before: FileFacts, after: FileFacts, modules: frozenset[str]) -> bool:
    """Whether every reader of reachability's inputs sees the two facts of a file alike: the same
    REACH_INPUTS, but for import sites none of them sees (reachability.visible_sites)."""
    from ..analysis.reachability import visible_sites
    from ..collect.codec import REACH_INPUTS

    if any(getattr(before, name) != getattr(after, name) for name in REACH_INPUTS if name != "sites"):
        return False
    return visible_sites(before, modules) == visible_sites(after, modules)


_REACH_FIELDS = ("files", "written", "origins", "aliases")
_EDGE_FIELDS = ("importer", "imported", "site", "written_in", "written_at", "unless")


def _reach_shapes_known() -> bool:
    """Whether Reach, ReachEdge and ReachedSite still have the fields _encode_reach writes (a new
    field would be lost in the stored result: then nothing is stored)."""
    import dataclasses

    from ..analysis.reachability import Reach, ReachedSite, ReachEdge
    from ..base.model import ImportSite

    return (tuple(f.name for f in dataclasses.fields(Reach)) == _REACH_FIELDS
            and tuple(f.name for f in dataclasses.fields(ReachEdge)) == _EDGE_FIELDS
            and [f.name for f in dataclasses.fields(ReachedSite)] == [f.name for f in dataclasses.fields(ImportSite)] + ["via"])


def _encode_reach(reach, files: dict[str, FileFacts]):
    """The JSON value of a Reach, or None when it holds what the encoding does not keep."""
    import dataclasses

    from ..analysis.reachability import ReachedSite
    from ..base.model import ImportSite, UnresolvedImport
    from ..collect.codec import encoder

    if not _reach_shapes_known() or reach.files.keys() != files.keys():
        return None
    unresolved = encoder(tuple[UnresolvedImport, ...])
    site = encoder(ImportSite)
    changed = {}
    for node, item in reach.files.items():
        before = files[node]
        if item is before:
            continue
        if type(item) is not FileFacts or dataclasses.replace(before, unresolved=item.unresolved) != item:
            return None  # more than `unresolved` changed: not what this encoding keeps
        changed[node] = unresolved(item.unresolved)

    def edges(found) -> list | None:
        out = []
        for edge in found:
            kind = type(edge.site)
            if kind is not ReachedSite and kind is not ImportSite:
                return None
            via = list(edge.site.via) if kind is ReachedSite else None
            out.append([edge.importer, edge.imported, site(edge.site), via, edge.written_in, edge.written_at,
                        list(edge.unless)])
        return out

    parts = [edges(reach.written), edges(reach.origins), edges(reach.aliases)]
    if any(part is None for part in parts):
        return None
    return {"files": changed, "written": parts[0], "origins": parts[1], "aliases": parts[2]}


def _decode_reach(value, files: dict[str, FileFacts]):
    """A Reach from its stored value over `files` (the facts it was computed from, possibly without
    their REACH_ONLY fields), or None when the value does not have its shape."""
    import dataclasses

    from ..analysis.reachability import Reach, ReachedSite, ReachEdge
    from ..base.model import ImportSite, UnresolvedImport
    from ..collect.codec import Invalid, decoder

    if not _reach_shapes_known():
        return None
    unresolved = decoder(tuple[UnresolvedImport, ...])
    site = decoder(ImportSite)
    names = [f.name for f in dataclasses.fields(ImportSite)]

    def edges(found) -> list:
        out = []
        for importer, imported, encoded, via, written_in, written_at, unless in found:
            item = site(encoded)
            if via is not None:
                if type(via) is not list or not all(type(v) is str for v in via):
                    raise Invalid("via")
                item = ReachedSite(*[getattr(item, n) for n in names], via=tuple(via))
            if not all(type(v) is str for v in (importer, imported, written_in, written_at)) or type(unless) is not list \
                    or not all(type(v) is str for v in unless):
                raise Invalid("edge")
            out.append(ReachEdge(importer, imported, item, written_in, written_at, tuple(unless)))
        return out

    try:
        if type(value) is not dict or type(value.get("files")) is not dict:
            return None
        out = dict(files)
        for node, encoded in value["files"].items():
            if node not in files:
                return None
            out[node] = dataclasses.replace(files[node], unresolved=unresolved(encoded))
        return Reach(out, edges(value["written"]), edges(value["origins"]), edges(value["aliases"]))
    except (Invalid, TypeError, ValueError, KeyError, RecursionError):
        return None


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

    from ..collect.parsing import scan_files

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


def __getattr__(name: str):
    """collect.parsing's scan_files, as this module has long offered it, imported when first asked
    for (a run with nothing changed never imports the parse pool)."""
    if name == "scan_files":
        from ..collect.parsing import scan_files

        return scan_files
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
