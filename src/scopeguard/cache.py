"""A content-addressed store of FileFacts and of the last full result.

Keys are content hashes, never mtimes (CI checkouts change every mtime); a (size, mtime_ns) match
against the last run only saves re-reading a file to hash it. Everything that scanning depends on
(scopeguard's scan schema, the Python and libcst versions, the toggle configuration) is part of
the key. Writes go to a temporary file that is renamed into place, so a reader never sees half an
entry; two runs sharing the cache at worst both write a correct entry. A corrupt, truncated or
foreign entry is ignored and rebuilt, never trusted. The cache is as trusted as the source tree it
sits in: it holds pickles, so do not point --cache-dir at a folder others can write.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .model import CMakeFacts, Config, FileFacts, PackagingFacts, ScanSettings, Violation

# Bump when FileFacts, ImportSite or the scanner's meaning changes.
# 2: FileFacts.references and .patches; find_spec probes; f-string/constant dynamic-import targets.
# 3: facts and violations pickled as plain tuples (model._compact_pickle).
# 4: GuardKind.TOLERANT (try/except ValueError...); registry lookups inside one are optional.
SCAN_SCHEMA = 4
_MAGIC = b"scopeguard-cache\n"


@dataclass(frozen=True)
class CachedResult:
    key: str
    violations: tuple[Violation, ...]
    files_analysed: int
    files_unparsed: int


class Cache:
    def __init__(self, directory: Path, config: Config) -> None:
        self.directory = directory
        self.scan_key = _digest(
            [
                f"schema={SCAN_SCHEMA}",
                f"scopeguard={__version__}",
                f"python={sys.version_info[:2]}",
                f"libcst={_libcst_version()}",
                f"code={_code_fingerprint()}",
                repr(ScanSettings.of(config)),  # the toggles, which calls count as registry references
            ]
        )
        self.usable = True
        self._index: dict[str, tuple[int, int, str]] | None = None
        self._index_changed = False
        self._base_keys: frozenset[str] = frozenset()  # entries of the facts store as loaded
        self._delta: dict[str, FileFacts] = {}  # entries of the delta store as loaded

    # -- content hashes, with the stat short-cut ----------------------------------------------

    def content_hash(self, abspath: str, path: str, stat: tuple[int, int] | None = None) -> str | None:
        """sha256 of a file's bytes, or None if it cannot be read (the scanner reports why).
        `stat` is (size, mtime_ns) when the caller has just read it."""
        index = self._load_index()
        if stat is None:
            try:
                info = os.stat(abspath)
            except OSError:
                return None
            stat = (info.st_size, info.st_mtime_ns)
        known = index.get(path)
        if known is not None and known[0] == stat[0] and known[1] == stat[1]:
            return known[2]
        try:
            with open(abspath, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            return None
        index[path] = (stat[0], stat[1], digest)
        self._index_changed = True
        return digest

    def _load_index(self) -> dict[str, tuple[int, int, str]]:
        if self._index is None:
            loaded = self._read("index")
            # An entry of another shape (a foreign or damaged index) is dropped, never trusted.
            self._index = (
                {path: entry for path, entry in loaded.items() if _is_index_entry(entry)}
                if isinstance(loaded, dict)
                else {}
            )
        return self._index

    # -- facts ----------------------------------------------------------------------------------

    # The facts of a tree live in one store (one read on the next run); a run that parsed a few
    # files writes only those to a small delta store beside it instead of rewriting the whole
    # store (on TVM, 0.5 MB of pickled facts: a noticeable share of a one-file-changed run).
    # Every entry is keyed by content, so any mix of store and delta, even from two runs racing,
    # holds only true facts: at worst an entry is missing and its file is parsed again.

    def load_facts(self) -> dict[str, FileFacts]:
        base = _facts_dict(self._read(self._facts_name))
        delta = _facts_dict(self._read(self._facts_name + ".delta"))
        self._base_keys = frozenset(base)
        self._delta = delta
        return {**base, **delta}

    def store_facts(self, facts: dict[str, FileFacts]) -> None:
        """Keep exactly this run's facts: the store never grows beyond the tree."""
        added = {key: value for key, value in facts.items() if key not in self._base_keys}
        unused = len(self._base_keys - facts.keys())
        if self._base_keys and len(added) + unused <= max(16, len(self._base_keys) // 20):
            if added != self._delta:
                self._write(self._facts_name + ".delta", added)
        else:
            self._write(self._facts_name, facts)
            self._base_keys = frozenset(facts)
            self._delta = {}
            _remove_quietly(self.directory / (self._facts_name + ".delta"))
        if self._index_changed:
            self._write("index", self._load_index())
            self._index_changed = False
        for stale in self._stale_fact_stores():
            _remove_quietly(stale)

    @property
    def _facts_name(self) -> str:
        return f"facts-{self.scan_key}"

    def _stale_fact_stores(self) -> Iterable[Path]:
        try:
            entries = list(self.directory.iterdir())
        except OSError:
            return []
        current = (self._facts_name, self._facts_name + ".delta")
        return [e for e in entries if e.name.startswith("facts-") and e.name not in current]

    # -- whole result -----------------------------------------------------------------------------

    def load_result(self, key: str) -> CachedResult | None:
        loaded = self._read("result")
        if isinstance(loaded, CachedResult) and loaded.key == key:
            return loaded
        return None

    def store_result(self, result: CachedResult) -> None:
        self._write("result", result)

    # -- storage --------------------------------------------------------------------------------

    def _read(self, name: str):
        try:
            data = (self.directory / name).read_bytes()
        except OSError:
            return None
        if not data.startswith(_MAGIC):
            return None
        try:
            return pickle.loads(data[len(_MAGIC) :])
        except Exception:  # truncated, corrupt, or written by an incompatible version
            return None

    def _write(self, name: str, value) -> None:
        if not self.usable:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _ensure_gitignore(self.directory)
            import tempfile  # a run answered from the cache writes nothing: no need to load it

            handle, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(_MAGIC)
                    pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.directory / name)
            except BaseException:
                _remove_quietly(Path(tmp))
                raise
        except OSError:
            # A read-only or misplaced cache must not fail the check: run without caching.
            self.usable = False


def _facts_dict(loaded) -> dict[str, FileFacts]:
    """A loaded facts store, or {} when it is missing, damaged or not what this version wrote."""
    if not isinstance(loaded, dict) or not all(isinstance(v, (FileFacts, PackagingFacts, CMakeFacts)) for v in loaded.values()):
        return {}
    return loaded


def _is_index_entry(entry) -> bool:
    """(size, mtime_ns, sha256 hex digest), as content_hash writes it."""
    return (
        type(entry) is tuple
        and len(entry) == 3
        and type(entry[0]) is int
        and type(entry[1]) is int
        and type(entry[2]) is str
    )


def content_key(digest: str, path: str, module: str, is_package: bool, extra: bool) -> str:
    """Facts depend on the bytes and on where the file sits (relative imports, node names)."""
    return f"{digest}:{path}:{module}:{int(is_package)}:{int(extra)}"


def result_key(scan_key: str, config: Config, entries: Iterable[str], selection: str) -> str:
    return _digest([scan_key, repr(config), selection, *entries])


def _digest(parts: Iterable[str]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode("utf-8", "surrogateescape"))
        sha.update(b"\0")
    return sha.hexdigest()[:32]


def _code_fingerprint() -> str:
    """scopeguard's own files (name, size, mtime): editing the scanner or a rule invalidates the
    cache even before the version number changes (a development checkout, a patched install)."""
    package = Path(__file__).resolve().parent
    parts = []
    for path in sorted(package.rglob("*.py")):
        try:
            stat = path.stat()
        except OSError:
            continue
        parts.append(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}")
    return _digest(parts)


def _libcst_version() -> str:
    """Identifies the installed libcst without importing it (or importlib.metadata, ~7 ms)."""
    from importlib.util import find_spec

    spec = find_spec("libcst")
    if spec is None or not spec.origin:
        return "missing"
    try:
        stat = os.stat(spec.origin)
    except OSError:
        return spec.origin
    return f"{spec.origin}:{stat.st_size}:{stat.st_mtime_ns}"


def _ensure_gitignore(directory: Path) -> None:
    marker = directory / ".gitignore"
    if not marker.exists():
        marker.write_text("# created by scopeguard\n*\n")


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
