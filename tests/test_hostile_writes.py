"""Issue 25, classes 1 and 2: writes that follow the tree, and a cache short-cut the tree controls.

Every file scopeguard writes goes through safeio.write_file (an exclusive temporary file with an
unpredictable name, renamed into place; a symlink at the target refused; a folder inside the
project that resolves outside it refused). Each attack below failed on the code before this
change: the write landed outside the project, the command died with a traceback or hung, or the
cache served the facts of another version of a file.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scopeguard.base import safeio
from scopeguard.base.safeio import UnsafeTarget, write_file
from scopeguard.cli import main

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="POSIX symlinks")

VICTIM = "precious: must never change\n"
CONFIG = textwrap.dedent("""\
    [tool.scopeguard]
    source_roots = ["."]

    [tool.scopeguard.toggles.feat]
    on_when_true = ["USE_FEAT"]

    [[tool.scopeguard.scopes]]
    name = "pkg.feat"
    toggle = "feat"
    """)


def make_project(base: Path, config: str | None = CONFIG) -> Path:
    root = base / "proj"
    (root / "pkg" / "feat").mkdir(parents=True)
    if config is not None:
        (root / "pyproject.toml").write_text(config)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "feat" / "__init__.py").write_text("")
    (root / "pkg" / "core.py").write_text("import os\nimport pkg.feat\n")  # SG201 at line 2
    return root


@pytest.fixture
def outside(tmp_path):
    """A folder outside the project holding a file the tree would like overwritten."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim").write_text(VICTIM)
    return folder


def snapshot(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """Everything under `folder`, links as links (never followed)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            out[name] = ("link", os.readlink(path))
        elif path.is_file():
            out[name] = ("file", path.read_bytes())
        else:
            out[name] = ("dir", b"")
    return out


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- the writer itself -----------------------------------------------------------------------------


def test_a_symlink_at_the_target_is_refused_and_its_target_untouched(tmp_path, outside):
    (tmp_path / "out.txt").symlink_to(outside / "victim")
    with pytest.raises(UnsafeTarget) as caught:
        write_file(tmp_path / "out.txt", "report")
    assert "is a symlink" in caught.value.strerror and "does not write through links" in caught.value.strerror
    assert (outside / "victim").read_text() == VICTIM
    assert (tmp_path / "out.txt").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "outside"]  # no temporary file left


def test_replace_link_replaces_the_link_itself(tmp_path, outside):
    (tmp_path / "entry").symlink_to(outside / "victim")
    write_file(tmp_path / "entry", b"data", replace_link=True, mode=0o600)
    assert not (tmp_path / "entry").is_symlink() and (tmp_path / "entry").read_bytes() == b"data"
    assert (tmp_path / "entry").stat().st_mode & 0o777 == 0o600
    assert (outside / "victim").read_text() == VICTIM


def test_a_folder_inside_the_project_that_resolves_outside_is_refused(tmp_path, outside):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "reports").symlink_to(outside)
    with pytest.raises(UnsafeTarget) as caught:
        write_file(project / "reports" / "victim", "x", within=[project])
    assert "outside" in caught.value.strerror
    with pytest.raises(UnsafeTarget):
        write_file(project / "reports" / "new.sarif", "x", within=[project])
    assert snapshot(outside) == {"victim": ("file", VICTIM.encode())}
    # A path the user names outside the project is theirs to choose, links and all.
    write_file(tmp_path / "elsewhere.txt", "x", within=[project])
    assert (tmp_path / "elsewhere.txt").read_text() == "x"


def test_a_hard_link_at_the_target_is_replaced_not_written_into(tmp_path, outside):
    os.link(outside / "victim", tmp_path / "out.txt")  # an archive can carry a hard link
    write_file(tmp_path / "out.txt", "report")
    assert (tmp_path / "out.txt").read_text() == "report"
    assert (outside / "victim").read_text() == VICTIM


def test_the_temporary_name_is_unpredictable_and_created_exclusively(tmp_path, monkeypatch):
    names = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *, dir_fd=None):
        if flags & os.O_CREAT:
            names.append(path)
            assert flags & os.O_EXCL and flags & os.O_NOFOLLOW
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", spy)
    write_file(tmp_path / "a.json", "1")
    write_file(tmp_path / "a.json", "2")
    assert len(names) == 2 and names[0] != names[1]
    assert all(name.startswith(".a.json.") and name.endswith(".tmp") and len(name) > len(".a.json..tmp") + 15
               for name in names)


def test_a_folder_swapped_for_a_symlink_after_the_check_is_refused(tmp_path, outside, monkeypatch):
    # TOCTOU: the folder passes the check, then becomes a link to elsewhere before it is opened.
    project = tmp_path / "proj"
    (project / "out").mkdir(parents=True)
    checked = safeio._checked_folder

    def swap(path, folder, within):
        real = checked(path, folder, within)
        os.rename(project / "out", project / "out.old")
        (project / "out").symlink_to(outside)
        return real

    monkeypatch.setattr(safeio, "_checked_folder", swap)
    with pytest.raises(UnsafeTarget) as caught:
        write_file(project / "out" / "victim", "x", within=[project])
    assert "changed into a symlink" in caught.value.strerror
    assert snapshot(outside) == {"victim": ("file", VICTIM.encode())}


def test_a_symlink_planted_at_the_target_after_the_check_is_replaced_not_followed(tmp_path, outside, monkeypatch):
    # TOCTOU: the name is free when checked; a link appears before the rename. The rename
    # replaces the link itself: the bytes never reach the link's target.
    fill = safeio._fill

    def plant_then_fill(fd, payload, mode, durable):
        (tmp_path / "out.txt").symlink_to(outside / "victim")
        fill(fd, payload, mode, durable)

    monkeypatch.setattr(safeio, "_fill", plant_then_fill)
    write_file(tmp_path / "out.txt", "report")
    assert not (tmp_path / "out.txt").is_symlink() and (tmp_path / "out.txt").read_text() == "report"
    assert (outside / "victim").read_text() == VICTIM


# -- each command, attacked where it writes ----------------------------------------------------------


@pytest.mark.parametrize("argv, name", [
    (["check", "{p}", "--no-cache", "-o", "{p}/scopeguard.sarif", "--format", "sarif"], "scopeguard.sarif"),
    (["check", "{p}", "--no-cache", "-o", "{p}/report.txt"], "report.txt"),
    (["graph", "{p}", "--no-cache", "-o", "{p}/graph.json"], "graph.json"),
    (["delete-plan", "pkg.feat", "{p}", "--no-cache", "--apply", "-o", "{p}/delete.patch"], "delete.patch"),
    (["baseline", "{p}", "--no-cache"], "scopeguard-baseline.json"),
    (["baseline", "{p}", "--no-cache", "-o", "{p}/b.json"], "b.json"),
])
def test_an_output_name_committed_as_a_symlink_is_not_written_through(tmp_path, outside, capsys, argv, name):
    # The README's CI step writes `-o scopeguard.sarif` inside the checkout, where a pull request
    # can commit that name as a link to any file the runner may write.
    project = make_project(tmp_path)
    (project / name).symlink_to(outside / "victim")
    code, _, err = run(capsys, *(a.format(p=project) for a in argv))
    assert code == 2
    assert f"{name} is a symlink to {str(outside / 'victim')!r}; scopeguard does not write through links" in err
    assert (outside / "victim").read_text() == VICTIM and (project / name).is_symlink()


def test_an_output_folder_committed_as_a_symlink_is_not_written_through(tmp_path, outside, capsys):
    project = make_project(tmp_path)
    (project / "reports").symlink_to(outside)
    # (excluded, so that discovery, which refuses a folder linked outside, lets the run go on)
    code, _, err = run(capsys, "check", project, "--no-cache", "--exclude", "reports",
                       "-o", project / "reports" / "check.txt")
    assert code == 2 and "resolves to" in err and "outside" in err
    assert snapshot(outside) == {"victim": ("file", VICTIM.encode())}


@pytest.mark.parametrize("argv, planted", [
    (["baseline", "{p}", "--no-cache"], "scopeguard-baseline.json.partial"),
    (["init", "{p}"], "pyproject.toml.scopeguard-init.partial"),
])
def test_the_old_predictable_temporary_names_lead_nowhere(tmp_path, outside, capsys, argv, planted):
    project = make_project(tmp_path, config=None if argv[0] == "init" else CONFIG)
    (project / planted).symlink_to(outside / "victim")
    code, _, err = run(capsys, *(a.format(p=project) for a in argv))
    assert code == 0, err
    assert (outside / "victim").read_text() == VICTIM and (project / planted).is_symlink()


def test_fix_on_a_read_only_tree_says_so_and_exits_2(tmp_path, capsys, monkeypatch):
    project = make_project(tmp_path)
    real_open = os.open

    def read_only(path, flags, mode=0o777, *, dir_fd=None):  # a read-only mount, even for root
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", read_only)
    code, _, err = run(capsys, "fix", project, "--no-cache", "--add-suppressions")
    assert code == 2
    assert "pkg/core.py: cannot write it: Read-only file system" in err
    assert "1 file(s) could not be written (a read-only tree?)" in err
    assert (project / "pkg" / "core.py").read_text() == "import os\nimport pkg.feat\n"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permission bits")
def test_fix_on_a_folder_without_write_permission_exits_2(tmp_path, capsys):
    project = make_project(tmp_path)
    (project / "pkg").chmod(0o555)
    try:
        code, _, err = run(capsys, "fix", project, "--no-cache", "--add-suppressions")
    finally:
        (project / "pkg").chmod(0o755)
    assert code == 2 and "pkg/core.py: cannot write it: Permission denied" in err


def test_fix_keeps_the_files_mode(tmp_path, capsys):
    project = make_project(tmp_path)
    (project / "pkg" / "core.py").chmod(0o640)
    code, _, err = run(capsys, "fix", project, "--no-cache", "--add-suppressions")
    assert code == 0, err
    assert "# scopeguard: ignore[SG201]" in (project / "pkg" / "core.py").read_text()
    assert (project / "pkg" / "core.py").stat().st_mode & 0o777 == 0o640


# -- init and the project's own pyproject.toml -------------------------------------------------------


def test_init_does_not_follow_a_pyproject_linked_outside(tmp_path, outside, capsys):
    project = make_project(tmp_path, config=None)
    (outside / "victim").write_text('[project]\nname = "secret-elsewhere"\n')
    (project / "pyproject.toml").symlink_to(outside / "victim")
    code, _, err = run(capsys, "init", project)
    assert code == 2
    assert "pyproject.toml is a symlink" in err and "neither follows nor replaces it" in err
    assert (outside / "victim").read_text() == '[project]\nname = "secret-elsewhere"\n'
    assert (project / "pyproject.toml").is_symlink()  # not replaced by a copy of that file


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_init_and_check_on_a_fifo_pyproject_do_not_hang(tmp_path):
    project = make_project(tmp_path, config=None)
    os.mkfifo(project / "pyproject.toml")
    for argv in (["init", str(project)], ["check", str(project), "--no-cache"]):
        done = subprocess.run([sys.executable, "-m", "scopeguard", *argv],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2 and "Traceback" not in done.stderr, (argv, done.stderr)
        if argv[0] == "init":
            assert "pyproject.toml: not a regular file" in done.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_pyproject_linked_to_dev_zero_does_not_exhaust_memory(tmp_path):
    project = make_project(tmp_path, config=None)
    (project / "pyproject.toml").symlink_to("/dev/zero")
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31)); "
    for argv in (["init", str(project)], ["check", str(project), "--no-cache"]):
        done = subprocess.run([sys.executable, "-c", limit + "from scopeguard.cli import main; raise SystemExit(main())", *argv],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2 and "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr


def test_init_on_a_folder_linked_outside_exits_2_without_a_traceback(tmp_path, outside, capsys):
    project = make_project(tmp_path, config=None)
    (outside / "mod.py").write_text("import os\n")
    (project / "pkg" / "ext").symlink_to(outside)
    code, _, err = run(capsys, "init", project)
    assert code == 2 and "pkg/ext is a symlink to" in err and "outside the project" in err
    assert not (project / "pyproject.toml").exists()


@pytest.mark.parametrize("argv", [
    ["check", "{p}"], ["graph", "{p}"], ["delete-plan", "pkg.feat", "{p}"], ["audit", "{p}"],
    ["baseline", "{p}", "-o", "{t}/b.json"], ["fix", "{p}", "--add-suppressions"], ["init", "{p}", "--dry-run"],
])
def test_symlink_loops_in_the_project_crash_no_command(tmp_path, capsys, argv):
    project = make_project(tmp_path, config=None if argv[0] == "init" else CONFIG)
    os.symlink("loop", project / "loop")
    os.symlink("b", project / "a")
    os.symlink("a", project / "b")
    os.symlink("CMakeLists.txt", project / "CMakeLists.txt")
    os.symlink("cmake", project / "cmake")
    os.symlink("setup.py", project / "setup.py")
    os.symlink("x.py", project / "pkg" / "x.py")
    os.symlink("sub", project / "pkg" / "sub")
    extra = ["--no-cache"] if argv[0] != "init" else []
    code, _, _ = run(capsys, *(a.format(p=project, t=tmp_path) for a in argv), *extra)
    assert code in (0, 1)


def test_a_source_file_linked_outside_the_project_is_refused_like_a_folder(tmp_path, outside, capsys):
    # Before: read silently (its import of the scope reported, from a file outside the project).
    project = make_project(tmp_path)
    (outside / "leak.py").write_text("import pkg.feat\n")
    (project / "pkg" / "leak.py").symlink_to(outside / "leak.py")
    code, _, err = run(capsys, "check", project, "--no-cache")
    assert code == 2
    assert f"pkg/leak.py is a symlink to {outside / 'leak.py'}, outside the project" in err
    assert "scopeguard does not read outside the project" in err
    # ... and a link that stays inside the project is read as before.
    (project / "pkg" / "leak.py").unlink()
    (project / "pkg" / "leak.py").symlink_to("core.py")
    code, out, _ = run(capsys, "check", project, "--no-cache")
    assert code == 1 and "pkg/leak.py:2:8: SG201" in out


def test_a_committed_baseline_linked_elsewhere_is_refused(tmp_path, outside, capsys):
    project = make_project(tmp_path)
    (outside / "baseline.json").write_text('{"scopeguard_baseline": 1, "entries": []}\n')
    (project / "scopeguard-baseline.json").symlink_to(outside / "baseline.json")
    code, _, err = run(capsys, "check", project, "--no-cache")
    assert code == 2 and "cannot read the baseline: it is a symlink" in err


# -- one walk over every command that writes, links planted at every name it uses --------------------


def _plant_everywhere(project: Path, outside: Path, cache: Path, key_home: Path) -> list[Path]:
    """Symlinks at every name a writer uses: outputs, the old temporary names, the baseline, the
    cache's entries, its .gitignore and the MAC key. Half point at the victim, half at a file
    that does not exist yet (a write through a dangling link creates it)."""
    from scopeguard.collect.cache import Cache
    from scopeguard.config import load_config

    scan_key = Cache(cache, load_config(project / "pyproject.toml"), key=b"k" * 32).scan_key
    names = [
        "report.sarif", "report.sarif.partial", "graph.json", "delete.patch", "b.json", "b.json.partial",
        "scopeguard-baseline.json.partial", "pyproject.toml.scopeguard-init.partial",
        "docs/SG201.md", "docs/README.md",
    ]
    cache_names = ["index", "result", f"facts-{scan_key}", f"facts-{scan_key}.delta", ".gitignore"]
    (project / "docs").mkdir()
    cache.mkdir()
    planted = [project / n for n in names] + [cache / n for n in cache_names]
    key = key_home / "scopeguard" / "key"
    key.parent.mkdir(parents=True)
    planted.append(key)
    for number, link in enumerate(planted):
        link.symlink_to(outside / ("victim" if number % 2 else f"created-{number}"))
    return planted


def test_every_writer_with_links_planted_at_every_name(tmp_path, outside, capsys, monkeypatch):
    project = make_project(tmp_path)
    cache = project / ".scopeguard_cache"
    key_home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(key_home))
    planted = _plant_everywhere(project, outside, cache, key_home)
    before = snapshot(outside)
    above = {p.name for p in tmp_path.iterdir()}
    c = ["--cache-dir", cache]
    commands = [
        (["check", project, *c, "-o", project / "report.sarif", "--format", "sarif"], 2),
        (["check", project, *c], 1),  # the cache writes its entries
        (["graph", project, *c, "-o", project / "graph.json"], 2),
        (["delete-plan", "pkg.feat", project, *c, "--apply", "-o", project / "delete.patch"], 2),
        (["baseline", project, *c, "-o", project / "b.json"], 2),
        (["baseline", project, *c], 0),  # scopeguard-baseline.json: a regular new file
        (["fix", project, *c, "--add-suppressions"], 0),
        (["rule", "--write-docs", project / "docs"], 2),
    ]
    # A key that is a link: the cache is not used (and the link's target not read or written).
    code, _, err = run(capsys, "check", project, *c)
    assert code == 1, err
    assert snapshot(outside) == before and snapshot(cache) == snapshot(cache) and not (cache / "index").exists()
    (key_home / "scopeguard" / "key").unlink()
    for argv, expected in commands:
        code, _, err = run(capsys, *argv)
        assert code == expected, (argv, err)
        assert snapshot(outside) == before, argv
    # init --force on a project whose pyproject.toml is a link (refused), then a regular one.
    (project / "pyproject.toml").rename(project / "real.toml")
    (project / "pyproject.toml").symlink_to(outside / "victim")
    assert run(capsys, "init", project, "--force")[0] == 2
    (project / "pyproject.toml").unlink()
    (project / "real.toml").rename(project / "pyproject.toml")
    code, _, err = run(capsys, "init", project, "--force")
    assert code == 0, err
    assert snapshot(outside) == before
    assert {p.name for p in tmp_path.iterdir()} == above  # nothing new beside the project
    for link in planted:
        if link.parent == cache:  # the cache replaced the links at the names of entries it wrote
            if link.name == "result" or link.name.startswith("facts-") and not link.name.endswith(".delta"):
                assert link.is_file() and not link.is_symlink(), link
        elif link.name != "key":
            assert link.is_symlink(), link
    assert not (project / "scopeguard-baseline.json").is_symlink()
    assert "# scopeguard: ignore[SG201]" in (project / "pkg" / "core.py").read_text()


# -- class 2: the cache's stat short-cut -------------------------------------------------------------


_GUARDED = "USE_FEAT = False\nif USE_FEAT:\n    import pkg.feat\n"
_HEAD = "USE_FEAT = False\nif True:\n"
SAME_SIZE = {  # two versions of pkg/core.py of one size: the second imports the scope unguarded
    "guarded": _GUARDED,
    "unguarded": _HEAD + " " * (len(_GUARDED) - len(_HEAD) - len("import pkg.feat\n")) + "import pkg.feat\n",
}


def _cached_findings(project: Path, cache_dir: Path) -> list[tuple]:
    from scopeguard.collect.cache import Cache
    from scopeguard.config import load_config
    from scopeguard.run.pipeline import analyse

    config = load_config(project / "pyproject.toml")
    cache = Cache(cache_dir, config, key=b"k" * 32) if cache_dir else None
    return [(v.code, v.path, v.line) for v in analyse(config, cache=cache).violations]


@pytest.mark.parametrize("how", ["in-place", "renamed-over", "deleted-and-recreated"])
def test_content_changed_with_size_and_mtime_restored_gives_the_new_facts(tmp_path, monkeypatch, how):
    # A checkout that preserves mtimes (an archive, `git restore-mtime`, `rsync -t`) can give a
    # pull request's file the size and mtime of the base branch's: the (size, mtime) short-cut
    # then served the base's facts and the unguarded import disappeared.
    assert len(SAME_SIZE["guarded"]) == len(SAME_SIZE["unguarded"])
    monkeypatch.setattr("scopeguard.collect.cache._RACY_NS", -1)  # remember even fresh files
    project = make_project(tmp_path)
    target = project / "pkg" / "core.py"
    target.write_text(SAME_SIZE["guarded"])
    os.utime(target, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    cache_dir = tmp_path / "cache"
    assert ("SG201", "pkg/core.py", 3) not in _cached_findings(project, cache_dir)
    from scopeguard.collect.cache import Cache
    from scopeguard.config import load_config

    index = Cache(cache_dir, load_config(project / "pyproject.toml"), key=b"k" * 32)._load_index()
    assert "pkg/core.py" in index, "the short-cut must be armed for the test to mean anything"
    before = os.stat(target)
    if how == "in-place":  # same inode, same device
        target.write_text(SAME_SIZE["unguarded"])
    elif how == "renamed-over":  # as git checkout writes a file
        replacement = project / "pkg" / "core.new"
        replacement.write_text(SAME_SIZE["unguarded"])
        os.replace(replacement, target)
    else:  # the freed inode number is often handed straight back
        target.unlink()
        target.write_text(SAME_SIZE["unguarded"])
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(target)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    expected = _cached_findings(project, None)
    assert ("SG201", "pkg/core.py", 3) in expected
    assert _cached_findings(project, cache_dir) == expected


def test_an_unchanged_file_still_takes_the_short_cut(tmp_path, monkeypatch):
    # The short-cut is kept for what it is for: a second run reads no unchanged file to hash it.
    from scopeguard.collect import cache as cache_module

    monkeypatch.setattr(cache_module, "_RACY_NS", -1)
    project = make_project(tmp_path)
    cache_dir = tmp_path / "cache"
    first = _cached_findings(project, cache_dir)
    reads = []
    real = cache_module.read_regular

    def counting(path, *args, **kwargs):
        reads.append(os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(cache_module, "read_regular", counting)
    assert _cached_findings(project, cache_dir) == first
    assert not [r for r in reads if r.endswith(".py")]


def test_a_fresh_file_is_not_remembered(tmp_path):
    # Racily clean: a file changed within two seconds (by ctime, which the tree cannot set) may
    # change again within the same clock tick, so its stat is not remembered.
    from scopeguard.collect.cache import Cache
    from scopeguard.config import load_config

    project = make_project(tmp_path)
    target = project / "pkg" / "core.py"
    os.utime(target, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))  # an old mtime
    cache_dir = tmp_path / "cache"
    _cached_findings(project, cache_dir)
    index = Cache(cache_dir, load_config(project / "pyproject.toml"), key=b"k" * 32)._load_index()
    assert "pkg/core.py" not in index
