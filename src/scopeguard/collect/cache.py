"""A content-addressed store of FileFacts and of the last full result, that nothing in the analysed
tree can write to or trick.

Keys are content hashes, never mtimes (CI checkouts change every mtime). A stat match against the
last run only saves re-reading a file to hash it, and it is bound to what the tree cannot set, as
git's index is: size and mtime (which a checkout, an archive, `git restore-mtime` or `rsync -t` can
set to anything) together with ctime, inode and device, which the kernel sets on every write and
rename. A file whose ctime is less than two seconds old when hashed is not remembered (racily
clean), so a later write in the same clock tick cannot be missed. Everything that scanning depends on
(scopeguard's scan schema, the Python and libcst versions, the toggle configuration) is part of
the key. Writes go to a temporary file that is renamed into place, so a reader never sees half an
entry; two runs sharing the cache at worst both write a correct entry.

Trust (README: "The cache"):
- Data only. Entries are JSON, decoded by `codec` into the model's frozen dataclasses, value by
  value: nothing in a cache file is executed or names a class to build. An entry of the wrong shape
  is dropped and rebuilt.
- Outside the tree. By default the cache lives in the user's cache folder
  (`$XDG_CACHE_HOME/scopeguard/projects/<name>-<hash of the project's real path>`), so a
  `.scopeguard_cache/` committed to the repository is never read.
- Authenticated. Every cache file carries an HMAC-SHA256 of its contents (and of its own name)
  under a per-user key, `$XDG_CACHE_HOME/scopeguard/key`, created 0600 on first use and never
  stored in a project. A file without a valid MAC is ignored, wherever the cache sits: a cache
  folder committed to the tree, or written by someone else, cannot change a result.
- Only regular files are read (O_NONBLOCK, O_NOFOLLOW, fstat, size cap from the open file).
- Facts are stored only under the hash of the very bytes they were parsed from (`store_facts`
  takes the parser's own digest); a lookup key that came from the stat short-cut can keep an
  existing entry, never name new facts.
- Written through `safeio.write_file`: an exclusive temporary file with an unpredictable name in
  the cache folder, renamed over the entry (a link planted at an entry's name is replaced, never
  written through).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from .. import __version__
from ..base.model import CMakeFacts, Config, FileFacts, PackagingFacts, ScanSettings, Violation
from ..base.safeio import read_regular, write_file
from .codec import REACH_INPUTS, REACH_ONLY, RECORD_KINDS, Record, _dumps, encode_record, reach_fields

__all__ = ["REACH_INPUTS", "REACH_ONLY", "Record", "encode_record"]  # re-exported: the store's own vocabulary

# Bump when FileFacts, ImportSite or the scanner's meaning changes.
# 2: FileFacts.references and .patches; find_spec probes; f-string/constant dynamic-import targets.
# 3: facts and violations pickled as plain tuples (model._compact_pickle).
# 4: GuardKind.TOLERANT (try/except ValueError...); registry lookups inside one are optional.
# 5: JSON entries with an HMAC (no pickle).
# 6: (never released) branch-local facts of the phase-2 work, each branch on its own.
# 7: (never released) the phase-2 merge in progress.
# 8: (never released) as 9 without import-hook installations.
# 9: (never released) as 10 without %-/str.format template prefixes.
# 10: issue 14 merged: Guard.catches, ImportSite.raises, GuardKind.DEAD; control flow, handlers by
#    the exception raised, more dynamic imports, import-time copies of facts in functions called on
#    import; toggle OFF states and binding-aware guards; builtins exec/eval/__import__ rebound by
#    the module are not dynamic imports; %- and str.format templates keep their literal start.
#    Issue 16: FileFacts.statements, Suppression facts (tokenize). Issue 15: reach facts (calls at
#    import time, string tables, registrations, locals followed into dynamic imports,
#    sys.meta_path/path_hooks installations).
# 13: FileFacts.lazy, .name_tables, .defined (lazy modules and by-name tables, issue 26); loop values.
# 14: FileFacts.effects (what may run at import time, issue 24).
# 15: GuardKind.CONVERTS (a handler that turns an import's failure into another exception).
# 16: pydoc.locate is an import by name; effects: methods of objects the analysis names (K().m(), super().m()).
# 17: UnresolvedImport.alternatives filled (a function's returned literal starts), parametrize values.
# 18: FileFacts.attaches (names attached to other modules by a name handed over, issue 26).
# 19: effects: what locals, loop variables and module-level `:=` names hold (methods called on them);
#     instances kept in literals and tables (`T = {"a": K()}`, `T.append(K())`); `p.m()` on a parameter,
#     instances and locals handed to calls.
SCAN_SCHEMA = 21
# Bump when the fact store's layout changes (not what facts mean: that is SCAN_SCHEMA).
# 1: one line per entry, the call facts apart (Record); reachability's result stored ("reach").
# 2: each call-fact field apart (decoded when first read); results stored for the same facts.
STORE_FORMAT = 2
_MAGIC = b"scopeguard-cache 10\n"
_MAC_HEX = 64  # hex digits of an HMAC-SHA256
# A cache file larger than this is not read (torch's whole fact store is some tens of MB).
MAX_ENTRY_BYTES = 512 * 1024 * 1024
_KEY_BYTES = 32
# A file changed this recently (by its ctime, which the tree cannot set) may change again within the
# same clock tick: its stat is not remembered (git's "racily clean" entries), so the next run
# hashes it again.
_RACY_NS = 2_000_000_000
# What the stat short-cut compares: (size, mtime_ns, ctime_ns, inode, device).
Stat = tuple[int, int, int, int, int]
_SHA256_HEX = frozenset("0123456789abcdef")
_SHA256_TEXT = re.compile("[0-9a-f]{64}")


@dataclass(frozen=True)
class CachedResult:
    key: str
    violations: tuple[Violation, ...]
    files_analysed: int
    files_unparsed: int
    # The digest of the facts the result was computed from (facts_key): a run whose files changed
    # but whose facts did not (a comment, a blank line at the end) has the same result.
    facts_key: str = ""


class CacheDirError(ValueError):
    """A cache folder that would let the tree direct scopeguard's writes (exit 2)."""


# -- where the cache lives --------------------------------------------------------------------------


def user_cache_root() -> Path:
    """scopeguard's folder in the user's cache directory (XDG on POSIX, LOCALAPPDATA on Windows)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    if not base or not os.path.isabs(base):
        if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
            base = os.environ["LOCALAPPDATA"]
        else:
            base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scopeguard"


def default_cache_dir(project_root: str) -> Path:
    """The project's folder in the user cache: one per real project path, never inside the tree."""
    real = os.path.realpath(project_root)
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in os.path.basename(real))[:40] or "root"
    return user_cache_root() / "projects" / f"{name}-{digest}"


def resolve_cache_dir(given: str | None, project_root: str) -> Path:
    """The cache folder for `--cache-dir` (or the default). A folder given inside the project must
    stay inside it once symlinks are resolved: a committed `.scopeguard_cache -> /elsewhere` link
    must not direct writes outside the project. Raises CacheDirError."""
    if not given:
        return default_cache_dir(project_root)
    path = Path(os.path.abspath(given))
    root = os.path.abspath(project_root)
    if _inside(str(path), root):
        real_root = os.path.realpath(root)
        if not _inside(os.path.realpath(path), real_root):
            raise CacheDirError(
                f"--cache-dir: {given} is inside the project but resolves to {os.path.realpath(path)}, "
                "outside it (a symlink); remove the link or pick another folder"
            )
    return path


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


# -- the key ---------------------------------------------------------------------------------------------


def _user_key() -> bytes | None:
    """The per-user MAC key, created on first use; None when it is missing and cannot be made, or
    when the file is not the user's own, private regular file (then the cache is not used)."""
    path = user_cache_root() / "key"
    for _attempt in range(2):
        try:
            data, info = read_regular(path, 4 * _KEY_BYTES, follow=False)
        except FileNotFoundError:
            _create_key(path)
            continue
        except OSError:
            return None
        if hasattr(os, "geteuid") and (info.st_uid != os.geteuid() or info.st_mode & 0o077):
            return None  # another user could read or replace it
        try:
            key = bytes.fromhex(data.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            return None
        return key if len(key) == _KEY_BYTES else None
    return None


def _create_key(path: Path) -> None:
    """Write a new random key atomically: a temporary 0600 file linked into place (two processes
    starting at once: one link wins, both then read the same key)."""
    import secrets
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key.", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(_KEY_BYTES) + "\n")
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    except OSError:
        pass
    finally:
        _remove_quietly(Path(tmp))


# -- the cache ---------------------------------------------------------------------------------------------


class Cache:
    def __init__(self, directory: Path, config: Config, *, key: bytes | None = None) -> None:
        self.directory = Path(directory)
        self.scan_key = _digest(
            [
                f"schema={SCAN_SCHEMA}",
                f"store={STORE_FORMAT}",
                f"scopeguard={__version__}",
                f"python={sys.version_info[:2]}",
                f"libcst={_libcst_version()}",
                f"code={_code_fingerprint()}",
                repr(ScanSettings.of(config)),  # the toggles, which calls count as registry references
            ]
        )
        self._key = key if key is not None else _user_key()
        self.usable = self._key is not None
        self._index: dict[str, tuple[Stat, str]] | None = None
        self._index_changed = False
        self._base: dict[str, Record] = {}  # entries of the facts store as loaded
        self._delta: dict[str, Record] = {}  # entries of the delta store as loaded
        self._result = None  # the stored result's JSON value, once read

    # -- content hashes, with the stat short-cut ----------------------------------------------

    def content_hash(self, abspath: str, path: str, stat: Stat | None = None) -> str | None:
        """sha256 of a file's bytes, or None if it cannot be read (the scanner reports why).
        `stat` is (size, mtime_ns, ctime_ns, inode, device) when the caller has just read it. The
        answer may come from the stat short-cut: use it to look facts up, never to store facts
        under."""
        index = self._load_index()
        if stat is None:
            try:
                stat = _stat_of(os.stat(abspath))
            except OSError:
                return None
        known = index.get(path)
        if known is not None and known[0] == tuple(stat):
            return known[1]
        try:
            data, before = read_regular(abspath, MAX_ENTRY_BYTES)
            after = os.stat(abspath)
        except OSError:
            return None
        digest = hashlib.sha256(data).hexdigest()
        # Remembered only when the file held still while read (same size, times, inode) and its
        # last change is not so recent that another could follow within the same clock tick.
        # ctime is the kernel's: a file written with a forged mtime still has a fresh ctime.
        if (
            _stat_of(after) == _stat_of(before)
            and before.st_size == len(data)
            and time.time_ns() - max(before.st_mtime_ns, before.st_ctime_ns) > _RACY_NS
        ):
            index[path] = (_stat_of(before), digest)
            self._index_changed = True
        elif path in index:
            del index[path]
            self._index_changed = True
        return digest

    def _load_index(self) -> dict[str, tuple[int, int, str]]:
        if self._index is None:
            loaded = self._read("index")
            index: dict[str, tuple[Stat, str]] = {}
            if isinstance(loaded, dict):
                for path, entry in loaded.items():  # entry by entry: a bad one is dropped
                    if (
                        type(entry) is list
                        and len(entry) == 6
                        and all(type(part) is int for part in entry[:5])
                        and type(entry[5]) is str
                        and _SHA256_TEXT.fullmatch(entry[5])
                    ):
                        index[path] = (tuple(entry[:5]), entry[5])  # type: ignore[assignment]
            self._index = index
        return self._index

    # -- facts ----------------------------------------------------------------------------------

    # The facts of a tree live in one store (one read on the next run); a run that parsed a few
    # files writes only those to a small delta store beside it instead of rewriting the whole
    # store. Every entry is keyed by content, so any mix of store and delta, even from two runs
    # racing, holds only true facts: at worst an entry is missing and its file is parsed again.
    #
    # The store is read in part (STORE_FORMAT): one line per entry, its parts decoded only when
    # asked for. A run whose reachability result is stored (see load_reach) never decodes the call
    # facts, which are most of the store.

    def load_records(self) -> dict[str, Record]:
        """The stored entries, undecoded (decode_record turns one into facts)."""
        base = _parse_store(self._read_bytes(self._facts_name))
        delta = _parse_store(self._read_bytes(self._facts_name + ".delta"))
        self._base = base
        self._delta = delta
        return {**base, **delta}

    def load_facts(self) -> dict[str, Facts]:
        """Every stored entry decoded (an entry of the wrong shape is left out)."""
        facts = {}
        for key, record in self.load_records().items():
            item = decode_record(key, record)
            if item is not None:
                facts[key] = item
        return facts

    def store_facts(self, kept: Iterable[str], parsed: Iterable[tuple] = ()) -> dict[str, Record]:
        """Keep exactly this run's facts: the store never grows beyond the tree.

        `kept`: keys returned by `load_records` whose facts this run used. `parsed`: (digest, facts)
        or (digest, facts, record) for each file parsed this run, where digest is the sha256 of the
        very bytes the parser read and record the facts already encoded (by the worker); the key is
        made here from that digest and the facts' own place (path, module), so facts can only ever
        be stored under the hash of what they describe. Returns the stored entries, by key."""
        known = {**self._base, **self._delta}
        records: dict[str, Record] = {key: known[key] for key in kept if key in known}
        for entry in parsed:
            digest, item = entry[0], entry[1]
            record = entry[2] if len(entry) > 2 and entry[2] is not None else None
            if _is_sha256(digest):
                records[fact_key(digest, item)] = record if record is not None else encode_record(item)
        base_keys = self._base.keys()
        # New entries, and entries parsed again under a key the store holds (one that did not
        # decode): the delta's entry wins over the store's when read.
        added = {key: value for key, value in records.items()
                 if (old := self._base.get(key)) is not value and old != value}
        unused = len(base_keys - records.keys())
        if base_keys and len(added) + unused <= max(16, len(base_keys) // 20):
            if added.keys() != self._delta.keys():
                self._write_bytes(self._facts_name + ".delta", _format_store(added))
        else:
            self._write_bytes(self._facts_name, _format_store(records))
            self._base = dict(records)
            self._delta = {}
            _remove_quietly(self.directory / (self._facts_name + ".delta"))
        self._save_index()
        for stale in self._stale_fact_stores():
            _remove_quietly(stale)
        return records

    # -- project-level results, stored with the digest of their inputs ------------------------

    def load_reach(self, key: str):
        """The stored reachability result (JSON) when it was computed from inputs of digest `key`."""
        loaded = self._read("reach")
        if not isinstance(loaded, dict) or loaded.get("key") != key:
            return None
        return loaded.get("value")

    def load_reach_entry(self) -> tuple[str, dict] | None:
        """The stored reachability result (JSON) with the digest of the inputs it was computed from,
        whatever they were (the caller judges whether it holds for its own)."""
        loaded = self._read("reach")
        if not isinstance(loaded, dict) or type(loaded.get("key")) is not str or type(loaded.get("value")) is not dict:
            return None
        return loaded["key"], loaded["value"]

    def store_reach(self, key: str, value) -> None:
        self._write("reach", {"key": key, "value": value})

    def load_unknowns(self, key: str):
        """The stored open dynamic imports (JSON) when computed from reachability inputs of digest `key`."""
        loaded = self._read("unknowns")
        if not isinstance(loaded, dict) or loaded.get("key") != key:
            return None
        return loaded.get("value")

    def store_unknowns(self, key: str, value) -> None:
        self._write("unknowns", {"key": key, "value": value})

    def _save_index(self) -> None:
        if self._index_changed and self._index is not None:
            self._write("index", {path: [*stat, digest] for path, (stat, digest) in self._index.items()})
            self._index_changed = False

    @property
    def _facts_name(self) -> str:
        return f"facts-{self.scan_key}"

    def _stale_fact_stores(self) -> Iterable[Path]:
        if not self.usable:
            return []
        try:
            entries = list(self.directory.iterdir())
        except OSError:
            return []
        current = (self._facts_name, self._facts_name + ".delta")
        return [e for e in entries if e.name.startswith("facts-") and e.name not in current]

    # -- whole result -----------------------------------------------------------------------------

    def load_result(self, key: str, facts_key: str | None = None) -> CachedResult | None:
        """The stored result when it was computed from inputs of content key `key`, or (`facts_key`
        given) from facts of that digest."""
        loaded = self._read("result") if self._result is None else self._result
        self._result = loaded
        if not isinstance(loaded, dict):
            return None
        if loaded.get("key") != key and (facts_key is None or loaded.get("facts_key") != facts_key):
            return None
        from .codec import Invalid, decoder

        try:
            violations = tuple(map(decoder(Violation), _list(loaded.get("violations"))))
            analysed, unparsed = loaded.get("files_analysed"), loaded.get("files_unparsed")
            if type(analysed) is not int or type(unparsed) is not int:
                return None
        except (Invalid, TypeError, ValueError, RecursionError):
            return None  # a result is all or nothing
        self._save_index()  # what this run learned about file contents serves the next one
        stored_facts_key = loaded.get("facts_key")
        return CachedResult(key, violations, analysed, unparsed,
                            stored_facts_key if type(stored_facts_key) is str else "")

    def rekey_result(self, key: str) -> None:
        """Store the result last loaded under a new content key (the files changed, their facts
        did not: the next run with these files finds it by the first key check)."""
        if isinstance(self._result, dict) and self._result.get("key") != key:
            self._result = {**self._result, "key": key}
            self._write("result", self._result)

    def store_result(self, result: CachedResult) -> None:
        from .codec import encoder

        encode = encoder(Violation)
        self._result = {
            "key": result.key,
            "facts_key": result.facts_key,
            "violations": [encode(v) for v in result.violations],
            "files_analysed": result.files_analysed,
            "files_unparsed": result.files_unparsed,
        }
        self._write("result", self._result)

    # -- storage --------------------------------------------------------------------------------

    def _mac(self, name: str, payload: bytes) -> bytes:
        assert self._key is not None
        mac = hmac.new(self._key, name.encode("utf-8") + b"\0", hashlib.sha256)
        mac.update(payload)
        return mac.hexdigest().encode("ascii")

    def _read(self, name: str):
        """The JSON value of a cache file, or None when it is missing, not a regular file, too large,
        not authenticated by this user's key, or not JSON."""
        payload = self._read_bytes(name)
        if payload is None:
            return None
        try:
            return json.loads(payload)
        except (ValueError, RecursionError):
            return None

    def _read_bytes(self, name: str) -> bytes | None:
        """The payload of a cache file, or None when it is missing, not a regular file, too large or
        not authenticated by this user's key."""
        if not self.usable:
            return None
        try:
            data, _ = read_regular(self.directory / name, MAX_ENTRY_BYTES, follow=False)
        except OSError:
            return None
        head = len(_MAGIC) + _MAC_HEX + 1
        if len(data) < head or not data.startswith(_MAGIC) or data[head - 1 : head] != b"\n":
            return None
        payload = data[head:]
        if not hmac.compare_digest(data[len(_MAGIC) : head - 1], self._mac(name, payload)):
            return None
        return payload

    def _write(self, name: str, value) -> None:
        if not self.usable:
            return
        try:
            payload = json.dumps(value, separators=(",", ":")).encode("ascii")
        except (TypeError, ValueError, RecursionError):
            return
        self._write_bytes(name, payload)

    def _write_bytes(self, name: str, payload: bytes) -> None:
        if not self.usable:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            _ensure_gitignore(self.directory)
            # An exclusive, unpredictable temporary name in the cache folder, renamed over the
            # entry: a planted symlink is replaced itself, never written through. Not fsynced: a
            # torn entry fails its MAC and is rebuilt.
            write_file(self.directory / name, _MAGIC + self._mac(name, payload) + b"\n" + payload,
                       within=[self.directory], mode=0o600, replace_link=True, durable=False)
        except OSError:
            # A read-only or misplaced cache must not fail the check: run without caching.
            self.usable = False


def _stat_of(info: os.stat_result) -> Stat:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


# A store entry holds the facts of a Python file, or of a packaging or CMake file (codec.Record).
_KIND_OF = RECORD_KINDS
_KINDS: dict[str, type] = {kind: cls for cls, kind in RECORD_KINDS.items()}

Facts = Union[FileFacts, PackagingFacts, CMakeFacts]


def decode_record(key: str, record: Record, lazy: bool = False) -> Facts | None:
    """The facts of one record, or None when it does not have the shape of facts or does not
    describe the file its key names. A Python file's REACH_ONLY fields, stored apart, are put back:
    the rules and the analysis of unknown dynamic imports read them as well as reachability.
    `lazy`: each of those fields is decoded when first read (codec.lazy_file_facts; a part that
    does not decode then raises codec.StaleRecord)."""
    from .codec import Invalid, decoder, lazy_file_facts

    try:
        value = json.loads(record.core)
        if type(value) is not list:
            return None
        parts: list[bytes] = []
        if record.kind == "py":
            only = reach_fields()[0]
            parts = record.reach.split(b"\t")
            if len(parts) != len(only):
                return None
            if not lazy:
                for i, part in zip(only, parts):
                    value[i] = json.loads(part)
        item = decoder(_KINDS[record.kind])(value)
        if lazy and record.kind == "py":
            if type(item) is not FileFacts or any(getattr(item, n) for n in REACH_ONLY):
                return None  # the core holds them empty
            item = lazy_file_facts(item, parts)
    except (Invalid, TypeError, ValueError, IndexError, RecursionError):
        return None
    # The key names the file the facts are about: a swapped entry is not used.
    digest = key.partition(":")[0]
    if not (_is_sha256(digest) and fact_key(digest, item) == key):
        return None
    return item


def _format_store(records: Mapping[str, Record]) -> bytes:
    """One line per entry: the key (a JSON string), the kind, the reach digest, the core JSON and the
    reach JSON, separated by tabs (JSON as written here holds no tab or newline)."""
    lines = []
    for key, r in records.items():
        lines.append(b"\t".join((_dumps(key), r.kind.encode("ascii"), r.reach_digest.encode("ascii"), r.core, r.reach)))
    return b"\n".join(lines)


def _parse_store(payload: bytes | None) -> dict[str, Record]:
    """A store's entries, line by line: a line of the wrong shape is dropped (its file is parsed
    again). Nothing is decoded but the keys."""
    if not payload:
        return {}
    records = {}
    for line in payload.split(b"\n"):
        parts = line.split(b"\t", 4)  # the reach part holds tabs of its own
        if len(parts) != 5:
            continue
        raw_key, kind, digest, core, reach = parts
        try:
            key = json.loads(raw_key)
            kind_text = kind.decode("ascii")
            digest_text = digest.decode("ascii")
        except (ValueError, UnicodeDecodeError):
            continue
        if type(key) is not str or kind_text not in _KINDS:
            continue
        if kind_text == "py" and not _is_sha256(digest_text):
            continue
        records[key] = Record(kind_text, core, reach, digest_text)
    return records


def _list(value) -> list:
    if type(value) is not list:
        raise TypeError("expected a list")
    return value


def _is_sha256(value) -> bool:
    return type(value) is str and len(value) == 64 and _SHA256_HEX.issuperset(value)


def content_key(digest: str, path: str, module: str, is_package: bool, extra: bool) -> str:
    """Facts depend on the bytes and on where the file sits (relative imports, node names)."""
    return f"{digest}:{_key_rest(path, module, is_package, extra)}"


def _key_rest(path: str, module: str, is_package: bool, extra: bool) -> str:
    return f"{path}:{module}:{int(is_package)}:{int(extra)}"


def build_key(digest: str, path: str, kind: str) -> str:
    """The content key of a packaging or CMake file's facts (kind "packaging" or "cmake"); never
    equal to a Python file's key, which has more fields."""
    return f"{digest}:{path}:{kind}"


def fact_key(digest: str, item: Facts) -> str:
    """The key facts are stored under: the digest of the bytes they were made from, and their place."""
    if type(item) is FileFacts:
        return content_key(digest, item.path, item.module, item.is_package, item.extra)
    return build_key(digest, item.path, _KIND_OF[type(item)])


def result_key(scan_key: str, config: Config, entries: Iterable[str], selection: str) -> str:
    return _digest([scan_key, repr(config), selection, *entries])


def record_identity(key: str, record: Record) -> str:
    """What a stored entry says, without the digest of the bytes it was made from: its place (the
    key's rest: path, module...) and a digest of its encoded facts. Equal identities, equal facts
    (records are written by one encoder, deterministically: the same facts give the same bytes)."""
    rest = key.partition(":")[2]
    sha = hashlib.sha256(record.core)
    if record.kind != "py":
        sha.update(b"\0" + record.kind.encode("ascii"))
    # A Python record's reach digest covers its call facts (and the other reachability inputs).
    return f"{rest}\0{record.reach_digest}\0{sha.hexdigest()}"


def facts_key(scan_key: str, config: Config, identities: Iterable[str], selection: str) -> str:
    """The digest of every file's facts (record_identity), in discovery order: what rules read."""
    return _digest(["facts", scan_key, repr(config), selection, *identities])


def _digest(parts: Iterable[str]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode("utf-8", "surrogateescape"))
        sha.update(b"\0")
    return sha.hexdigest()[:32]


def _code_fingerprint() -> str:
    """scopeguard's own files (name, size, mtime): editing the scanner or a rule invalidates the
    cache even before the version number changes (a development checkout, a patched install).
    Walked with os.scandir (pathlib's rglob took a tenth of a run with nothing changed)."""
    package = str(Path(__file__).resolve().parent.parent)  # the scopeguard package, not only collect/
    parts = []
    todo = [""]
    while todo:
        relative = todo.pop()
        try:
            with os.scandir(os.path.join(package, relative) if relative else package) as entries:
                for entry in entries:
                    name = f"{relative}/{entry.name}" if relative else entry.name
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            todo.append(name)
                        elif entry.name.endswith(".py"):
                            stat = entry.stat()
                            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
                    except OSError:
                        continue
        except OSError:
            continue
    parts.sort()
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
    """A `.gitignore` of `*` in the cache folder, created only if absent (O_EXCL, O_NOFOLLOW: a planted
    symlink named .gitignore is never followed)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(directory / ".gitignore", flags, 0o644)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as out:
        out.write("# created by scopeguard\n*\n")


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
