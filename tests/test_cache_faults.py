"""Cache faults: whatever state the cache is in, the findings are those of a run without a cache.

Covered already in tests/test_cache.py, not repeated here: truncated, garbage, empty and foreign
entries (test_corrupt_cache_entries_are_ignored_and_rebuilt); a cache dir that is a file
(test_cache_dir_that_is_a_file_or_read_only_still_gives_right_answers); one pair of processes
sharing a cold cache (test_two_processes_sharing_one_cache_both_answer_right).
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scopeguard.collect.cache import _MAGIC, Cache
from scopeguard.config import load_config
from scopeguard.run.pipeline import analyse

from .conftest import FIXTURES, REPO


@pytest.fixture
def project(tmp_path):
    shutil.copytree(FIXTURES / "tvm_like", tmp_path / "proj", ignore=shutil.ignore_patterns(".scopeguard_cache"))
    return tmp_path / "proj"


def findings(project: Path, cache_dir: Path | None) -> list[tuple]:
    config = load_config(project / "pyproject.toml")
    cache = Cache(cache_dir, config) if cache_dir is not None else None
    return [(v.code, v.path, v.line, v.column, v.message) for v in analyse(config, cache=cache).violations]


def entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.iterdir() if p.name != ".gitignore")


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- damaged and foreign entries --------------------------------------------------------------------

DAMAGE = {
    # the pickle store of scopeguard before schema 5
    "old-pickle": b"scopeguard-cache\n" + pickle.dumps({"x": 1}),
    # the right magic, a MAC of the wrong length, then JSON
    "short-mac": _MAGIC + b"00\n{}",
    # the right magic, no newline after the MAC
    "no-newline": _MAGIC + b"0" * 64 + b"{}",
    # another tool's file under our name
    "no-magic": pickle.dumps({"x": 1}),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_entries_written_by_another_version_are_ignored(project, tmp_path, damage):
    reference = findings(project, None)
    cache_dir = tmp_path / "cache"
    findings(project, cache_dir)
    for entry in entries(cache_dir):
        entry.write_bytes(DAMAGE[damage])
    assert findings(project, cache_dir) == reference
    assert findings(project, cache_dir) == reference  # rebuilt, and the rebuilt cache is right


@pytest.mark.parametrize("bad", [None, 5, "text", [1], ["size", "mtime", "digest"], [0, 0, 7], [0, 0, "ab"],
                                 [True, 0, "a" * 64], [0, 0, "a" * 64], [0, 0, 0, 0, 0, 7],
                                 [True, 0, 0, 0, 0, "a" * 64], [0, 0, 0, 0, "0", "a" * 64]])
def test_an_index_with_entries_of_the_wrong_shape_is_not_trusted(project, tmp_path, bad, monkeypatch):
    # Regression: an index mapping real paths to non-tuples made content_hash raise a TypeError.
    monkeypatch.setattr("scopeguard.collect.cache._RACY_NS", -1)  # the copy's files are seconds old
    reference = findings(project, None)
    cache_dir = tmp_path / "cache"
    findings(project, cache_dir)
    config = load_config(project / "pyproject.toml")
    cache = Cache(cache_dir, config)
    index = cache._read("index")
    assert index, "the index names every file"
    cache._write("index", {path: bad for path in index})  # authentic, but of the wrong shape
    (cache_dir / "result").unlink()
    assert findings(project, cache_dir) == reference


def test_an_edit_that_keeps_the_old_mtime_is_still_seen(project, tmp_path):
    # A checkout or a restore may set an edited file's mtime back: the size still differs, so the
    # (size, mtime) short-cut does not apply and the content is hashed.
    cache_dir = tmp_path / "cache"
    findings(project, cache_dir)
    target = project / "python/tvm/ir/transform.py"
    stat = target.stat()
    target.write_text(target.read_text() + "from tvm.contrib import msc\n")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime, other size
    assert findings(project, cache_dir) == findings(project, None)
    assert any(f[1] == "python/tvm/ir/transform.py" for f in findings(project, None))


def test_entries_that_are_folders_do_not_stop_the_run(project, tmp_path):
    reference = findings(project, None)
    cache_dir = tmp_path / "cache"
    findings(project, cache_dir)
    for entry in entries(cache_dir):
        entry.unlink()
        entry.mkdir()
    assert findings(project, cache_dir) == reference


def test_stale_fact_stores_are_removed(project, tmp_path):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "facts-0123456789abcdef0123456789abcdef").write_bytes(_MAGIC + b"0" * 64 + b"\n{}")
    findings(project, cache_dir)
    assert not (cache_dir / "facts-0123456789abcdef0123456789abcdef").exists()


# -- unusable cache directories ---------------------------------------------------------------------


def test_cache_dir_below_a_file_gives_right_answers_and_writes_nothing(project, tmp_path):
    blocker = tmp_path / "plain_file"
    blocker.write_text("x")
    before = listing(tmp_path)
    assert findings(project, blocker / "cache") == findings(project, None)
    assert listing(tmp_path) == before


def test_cache_dir_that_is_a_dangling_symlink(project, tmp_path):
    link = tmp_path / "cache"
    link.symlink_to(tmp_path / "gone" / "away")
    assert findings(project, link) == findings(project, None)


def test_existing_cache_dir_that_even_root_cannot_write(project):
    # Permission bits do not stop root; /proc refuses new files to everyone, so it is a real
    # unwritable, existing folder on Linux whoever runs the tests.
    proc = Path("/proc/self")
    if not proc.is_dir():
        pytest.skip("needs Linux /proc")
    assert findings(project, proc) == findings(project, None)
    assert not (proc / ".gitignore").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permission bits")
def test_read_only_warm_cache_is_used_and_left_alone(project, tmp_path):
    # CI restores a cache it may not write: it must still serve, and stay as it was.
    cache_dir = tmp_path / "cache"
    reference = findings(project, cache_dir)
    before = listing(cache_dir)
    for entry in cache_dir.iterdir():
        entry.chmod(0o400)
    cache_dir.chmod(0o500)
    try:
        config = load_config(project / "pyproject.toml")
        analysis = analyse(config, cache=Cache(cache_dir, config))
        assert analysis.from_cache
        assert [(v.code, v.path, v.line, v.column, v.message) for v in analysis.violations] == reference
        (project / "python/tvm/ir/transform.py").write_text("from tvm.contrib import msc\n")
        assert findings(project, cache_dir) == findings(project, None)
    finally:
        cache_dir.chmod(0o700)
    assert listing(cache_dir) == before


# -- writers at the same time -----------------------------------------------------------------------

CHECK = [sys.executable, "-m", "scopeguard", "check", "-q", "--jobs", "1"]


def test_two_processes_at_once_on_one_cache_repeatedly(project, tmp_path):
    """Each round changes the tree, then two processes race on the same cache."""
    cache_dir = tmp_path / "shared-cache"
    target = project / "python/tvm/ir/transform.py"
    original = target.read_text()
    edits = ["", "from tvm.contrib import msc\n"]
    for round_number, edit in enumerate(edits):
        target.write_text(original + edit)
        expected = subprocess.run([*CHECK, str(project), "--no-cache"], capture_output=True, text=True, check=False)
        command = [*CHECK, str(project), "--cache-dir", str(cache_dir)]
        racers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for _ in range(2)]
        results = [(p.wait(), *p.communicate()) for p in racers]
        for code, out, err in results:
            assert (code, out, err) == (expected.returncode, expected.stdout, ""), f"round {round_number}"
        after = subprocess.run(command, capture_output=True, text=True, check=False)
        assert (after.returncode, after.stdout) == (expected.returncode, expected.stdout), f"round {round_number}"
    assert not [p for p in cache_dir.iterdir() if p.name.endswith(".tmp")], "no temporary file left behind"


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from scopeguard.collect.cache import Cache
    from scopeguard.config import load_config

    config = load_config(sys.argv[1])
    cache = Cache(Path(sys.argv[2]), config)
    big = {f"key{i}": "x" * 200 for i in range(2000)}  # about 0.5 MB: a write takes a while
    for i in range(int(sys.argv[3])):
        cache._write("result", {"round": i, "payload": big})
    """
)


def test_a_reader_never_sees_half_an_entry(project, tmp_path):
    cache_dir = tmp_path / "cache"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(project / "pyproject.toml"), str(cache_dir), "60"],
        cwd=REPO, stderr=subprocess.PIPE, text=True,
    )
    config = load_config(project / "pyproject.toml")
    reader = Cache(cache_dir, config)
    seen = set()
    while writer.poll() is None:
        value = reader._read("result")
        if value is not None:  # absent before the first rename; complete ever after
            assert len(value["payload"]) == 2000
            seen.add(value["round"])
    assert writer.returncode == 0, writer.stderr.read()
    assert reader._read("result")["round"] == 59
    assert seen, "the reader ran while the writer wrote"


# -- entries that are not regular files (issue 13, attack 5) ------------------------------------------

HOG_CHECK = textwrap.dedent(
    """
    import resource, sys
    # 1.5 GB of address space: reading /dev/zero into memory would die here instead of swapping.
    resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
    from scopeguard.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_fifo_and_dev_zero_cache_entries_neither_hang_nor_grow(project, tmp_path, kind):
    cache_dir = tmp_path / "cache"
    command = [sys.executable, "-c", HOG_CHECK, "check", str(project), "-q", "--jobs", "1", "--cache-dir", str(cache_dir)]
    expected = subprocess.run([*CHECK, str(project), "--no-cache"], capture_output=True, text=True, check=False)
    subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    names = [p.name for p in entries(cache_dir)]
    store = next(n for n in names if n.startswith("facts-"))
    for name in {*names, store + ".delta"}:
        (cache_dir / name).unlink(missing_ok=True)
        if kind == "fifo":
            os.mkfifo(cache_dir / name)
        else:
            (cache_dir / name).symlink_to("/dev/zero")
    for _ in range(2):
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        assert (done.returncode, done.stdout, done.stderr) == (expected.returncode, expected.stdout, "")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_source_file_swapped_for_a_fifo_after_discovery_does_not_hang(project, tmp_path, monkeypatch):
    from scopeguard.run import pipeline

    config = load_config(project / "pyproject.toml")
    target = project / "python/tvm/ir/transform.py"
    original = pipeline.discover

    def swap_after_discovery(cfg):
        files = original(cfg)
        target.unlink()
        os.mkfifo(target)  # opening it for reading without O_NONBLOCK would block forever
        return files

    monkeypatch.setattr(pipeline, "discover", swap_after_discovery)
    analysis = analyse(config, cache=Cache(tmp_path / "cache", config), jobs=1)
    (unparsed,) = [v for v in analysis.violations if v.code == "SG001"]
    assert unparsed.path == "python/tvm/ir/transform.py" and "not a regular file" in unparsed.message
