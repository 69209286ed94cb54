"""Issue 13, attacks 1 and 3: a cache that a pull request can write to must neither run code nor change
a finding.

Hostile entries are planted at every cache path (the index, the result, the fact store and its
delta), both committed in the project before the first run (in `.scopeguard_cache/`, the old
default, which `--cache-dir .scopeguard_cache` still reads in CI) and written over a warm cache
after a run. Each kind: a pickle whose loading would create a marker file (with the old header,
the new one, and none), and a well-formed file of the new format whose facts and result say "no
imports, no findings" for the current content hashes, authenticated with a key the attacker chose.
Every run's findings must equal those of `--no-cache`. A control shows the same forged file
signed with the user's real key does change the findings: the MAC is what stops it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from scopeguard.run import pipeline
from scopeguard.collect.cache import (
    _MAGIC,
    Cache,
    _format_store,
    decode_record,
    default_cache_dir,
    encode_record,
    user_cache_root,
)
from scopeguard.cli import main
from scopeguard.base.model import FileFacts
from scopeguard.config import load_config
from scopeguard.run.pipeline import analyse

from .conftest import FIXTURES


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # unpickling calls open(marker, "w"): the file appears if pickle ran
        return (open, (self.marker, "w"))


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A TVM-like project, a private user cache folder, and the marker a payload would create."""
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "tvm_like", project, ignore=shutil.ignore_patterns(".scopeguard_cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return project, tmp_path / "EXECUTED"


def findings(capsys, project: Path, *args: str) -> tuple[int, list[str]]:
    code = main(["check", str(project), "--format", "json", "--jobs", "1", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    report = json.loads(out)
    return code, sorted(json.dumps(v, sort_keys=True) for v in report["violations"])


def cache_names(cache_dir: Path) -> list[str]:
    """Every name a cache file can have for this configuration: index, result, store and delta."""
    names = [p.name for p in cache_dir.iterdir() if not p.name.startswith(".")]
    store = next(n for n in names if n.startswith("facts-") and not n.endswith(".delta"))
    return sorted({*names, store + ".delta"})


def pickles(marker: Path) -> dict[str, bytes]:
    body = pickle.dumps({"payload": _Payload(str(marker))})
    return {
        "old-header": b"scopeguard-cache\n" + body,
        "new-header": _MAGIC + b"0" * 64 + b"\n" + body,
        "bare": body,
    }


def forged(cache_dir: Path, project: Path, key: bytes) -> dict[str, bytes]:
    """Files of the new format for every name, MAC'd with `key`, claiming no imports and no findings."""
    config = load_config(project / "pyproject.toml")
    real = Cache(cache_dir, config)  # read with the user's key: what the current content hashes are
    store = next(n for n in cache_names(cache_dir) if n.startswith("facts-") and not n.endswith(".delta"))
    records = real.load_records()
    result = real._read("result")
    reach = real._read("reach")
    assert records and result and reach, "a warm cache to copy the keys from"
    # Store entries (cache.Record lines): the Python files' facts are emptied, the others kept.
    empty = {}
    for k, record in records.items():
        item = decode_record(k, record)
        if record.kind == "py":
            item = dataclasses.replace(item, sites=(), unresolved=(), references=(), patches=(), calls=(), dynamic=())
        empty[k] = encode_record(item)
    values = {
        "index": real._read("index"),
        "result": {**result, "violations": []},
        "reach": {**reach, "value": {"files": {}, "written": [], "origins": [], "aliases": []}},
    }
    raw = {store: _format_store(empty), store + ".delta": _format_store(empty)}

    def signed(name: str, value) -> bytes:
        payload = raw[name] if name in raw else json.dumps(value).encode()
        mac = hmac.new(key, name.encode() + b"\0", hashlib.sha256)
        mac.update(payload)
        return _MAGIC + mac.hexdigest().encode() + b"\n" + payload

    return {name: signed(name, value) for name, value in [*values.items(), *raw.items()]}


def plant(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def test_the_cache_lives_outside_the_tree_by_default(env, capsys):
    project, _ = env
    findings(capsys, project)
    assert not (project / ".scopeguard_cache").exists()
    folder = default_cache_dir(str(project))
    assert folder.parent.parent == user_cache_root() and any(folder.iterdir())
    key = user_cache_root() / "key"
    assert key.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("kind", ["old-header", "new-header", "bare", "forged"])
def test_hostile_files_committed_before_the_first_run(env, capsys, kind, tmp_path):
    project, marker = env
    reference = findings(capsys, project, "--no-cache")
    assert reference[0] == 1 and len(reference[1]) == 12  # issue 16: one SG402 is a note of its SG204
    # A warm cache elsewhere gives the real names and current hashes to forge from.
    donor = tmp_path / "donor"
    findings(capsys, project, "--cache-dir", str(donor))
    names = cache_names(donor)
    files = (forged(donor, project, b"attacker's own key".ljust(32, b"!")) if kind == "forged"
             else {name: pickles(marker)[kind] for name in names})
    committed = project / ".scopeguard_cache"
    plant(committed, files)
    plant(default_cache_dir(str(project)), files)  # and where the default cache is, for good measure
    for args in ((), ("--cache-dir", str(committed)), (), ("--cache-dir", str(committed))):  # cold, then warm
        assert findings(capsys, project, *args) == reference
        assert not marker.exists(), "a cache file was executed"


@pytest.mark.parametrize("kind", ["old-header", "new-header", "bare", "forged"])
@pytest.mark.parametrize("where", ["default", "inside-project"])
def test_hostile_files_written_over_a_warm_cache(env, capsys, kind, where, monkeypatch):
    project, marker = env
    # The index (the stat short-cut) remembers only files changed over two seconds ago, by ctime:
    # the fixture's files are new, so that wait is waived here to have an index to attack.
    monkeypatch.setattr("scopeguard.collect.cache._RACY_NS", -1)
    reference = findings(capsys, project, "--no-cache")
    args = () if where == "default" else ("--cache-dir", str(project / ".scopeguard_cache"))
    cache_dir = default_cache_dir(str(project)) if where == "default" else project / ".scopeguard_cache"
    assert findings(capsys, project, *args) == reference
    names = cache_names(cache_dir)
    assert len(names) == 6  # index, result, reach, unknowns, store and delta
    files = (forged(cache_dir, project, os.urandom(32)) if kind == "forged"
             else {name: pickles(marker)[kind] for name in names})
    plant(cache_dir, files)
    assert findings(capsys, project, *args) == reference
    assert findings(capsys, project, *args) == reference  # rebuilt, and right when read back
    assert not marker.exists(), "a cache file was executed"


def test_control_the_same_forgery_with_the_users_key_would_hide_every_finding(env, capsys):
    # Shows the test above can fail: only the MAC keeps these well-formed entries out.
    project, _ = env
    reference = findings(capsys, project, "--no-cache")
    cache_dir = default_cache_dir(str(project))
    findings(capsys, project)
    key = bytes.fromhex((user_cache_root() / "key").read_text().strip())
    plant(cache_dir, forged(cache_dir, project, key))
    assert findings(capsys, project) == (0, []) != reference


def test_a_swapped_entry_with_a_valid_mac_is_not_used_under_another_name(env, capsys):
    # The MAC covers the file's name: the (authentic) result file copied over the index is refused.
    project, _ = env
    reference = findings(capsys, project, "--no-cache")
    cache_dir = default_cache_dir(str(project))
    findings(capsys, project)
    (cache_dir / "index").write_bytes((cache_dir / "result").read_bytes())
    config = load_config(project / "pyproject.toml")
    assert Cache(cache_dir, config)._read("index") is None
    assert findings(capsys, project) == reference


@pytest.mark.parametrize("damage", ["fifo", "dev-zero", "folder", "group-writable", "short"])
def test_a_key_that_is_not_the_users_private_file_disables_the_cache(env, capsys, damage):
    project, _ = env
    reference = findings(capsys, project, "--no-cache")
    key = user_cache_root() / "key"
    key.parent.mkdir(parents=True, exist_ok=True)
    if damage == "fifo":
        os.mkfifo(key)
    elif damage == "dev-zero":
        key.symlink_to("/dev/zero")
    elif damage == "folder":
        key.mkdir()
    elif damage == "group-writable":
        key.write_text("ab" * 32)
        key.chmod(0o660)
    else:
        key.write_text("abcd")
        key.chmod(0o600)
    config = load_config(project / "pyproject.toml")
    assert not Cache(default_cache_dir(str(project)), config).usable
    assert findings(capsys, project) == reference
    assert not default_cache_dir(str(project)).exists()  # nothing written without a usable key


# -- attack 3: the file changes between the lookup and the parse ------------------------------------

UNGUARDED = "from tvm.contrib import msc\n"
GUARDED = "import os\nif os.environ.get('TVM_USE_MSC') == '1':\n    from tvm.contrib import msc\n"


def test_a_file_flipped_between_hash_and_parse_leaves_no_wrong_entry(env, capsys, monkeypatch):
    project, _ = env
    target = project / "python/tvm/ir/racy.py"
    target.write_text(UNGUARDED)
    config = load_config(project / "pyproject.toml")
    cache_dir = project.parent / "cache"
    original = pipeline._content_keys

    def flip_after_lookup(files, cache):
        keys = original(files, cache)  # hashed while the file is UNGUARDED
        target.write_text(GUARDED)  # ... and parsed GUARDED
        return keys

    monkeypatch.setattr(pipeline, "_content_keys", flip_after_lookup)
    racing = analyse(config, cache=Cache(cache_dir, config))
    monkeypatch.setattr(pipeline, "_content_keys", original)
    assert not any(v.path == "python/tvm/ir/racy.py" for v in racing.violations)  # it saw GUARDED

    for text in (UNGUARDED, GUARDED, UNGUARDED):
        target.write_text(text)
        expected = [(v.code, v.path, v.line) for v in analyse(config).violations]
        cached = analyse(config, cache=Cache(cache_dir, config))
        assert [(v.code, v.path, v.line) for v in cached.violations] == expected
        assert ("SG201", "python/tvm/ir/racy.py", 1) in expected if text == UNGUARDED else True


def test_facts_are_stored_under_the_digest_of_the_parsed_bytes_only(env):
    project, _ = env
    config = load_config(project / "pyproject.toml")
    cache = Cache(project.parent / "cache", config)
    cache.load_facts()
    facts = pipeline.scan_files(config.toggles, [f for f in pipeline.discover(config)][:1])
    digest, item = facts[0]
    path = project / item.path
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    # A key that merely looked facts up (or that anyone made up) cannot bring new facts in.
    stored = cache.store_facts(kept=["0" * 64 + ":" + item.path + ":x:0:0"], parsed=[(digest, item)])
    assert list(stored) == [f"{digest}:{item.path}:{item.module}:{int(item.is_package)}:{int(item.extra)}"]
