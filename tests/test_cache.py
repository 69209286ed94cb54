"""The cache: right answers every time, whatever state the cache is in."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from scopeguard.collect.cache import Cache
from scopeguard.config import load_config
from scopeguard.collect.discover import discover
from scopeguard.run.pipeline import analyse, scan_files

from .conftest import FIXTURES


@pytest.fixture
def project(tmp_path):
    shutil.copytree(FIXTURES / "tvm_like", tmp_path / "proj", ignore=shutil.ignore_patterns(".scopeguard_cache"))
    return tmp_path / "proj"


def _run(project, cache_dir=None, **kwargs):
    config = load_config(project / "pyproject.toml")
    cache = Cache(cache_dir or project / ".scopeguard_cache", config)
    return analyse(config, cache=cache, **kwargs)


def _findings(analysis):
    return [(v.code, v.path, v.line, v.column) for v in analysis.violations]


def test_second_run_comes_from_the_result_cache_with_the_same_findings(project):
    cold = _run(project)
    warm = _run(project)
    assert not cold.from_cache and cold.files_parsed == 26
    assert warm.from_cache and _findings(warm) == _findings(cold) and len(cold.violations) == 12  # issue 16: SG402 under SG204


def test_a_changed_file_is_reparsed_alone_and_changes_the_result(project):
    _run(project)
    target = project / "python/tvm/ir/transform.py"
    target.write_text(target.read_text() + "\nfrom tvm.contrib import msc\n")
    changed = _run(project)
    assert not changed.from_cache and changed.files_parsed == 1
    assert ("SG201", "python/tvm/ir/transform.py", 8, 25) in _findings(changed)


def test_mtime_only_change_reuses_facts_by_content_hash(project):
    _run(project)
    target = project / "python/tvm/ir/transform.py"
    target.write_bytes(target.read_bytes())  # new mtime, same bytes (a CI checkout)
    again = _run(project)
    assert again.from_cache


def test_config_change_invalidates_the_result(project):
    first = _run(project)
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace('allow = ["tvm.script.parser.relax"]', "allow = []"))
    second = _run(project)
    assert not second.from_cache
    assert set(_findings(second)) - set(_findings(first)) == {
        ("SG201", "python/tvm/script/parser/relax/__init__.py", 2, 17),
        ("SG201", "python/tvm/script/parser/relax/__init__.py", 3, 23),
    }


def test_toggle_change_invalidates_the_facts(project):
    _run(project)
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace('on_when_true = ["USE_MSC", "TVM_USE_MSC"]', 'on_when_true = ["TVM_USE_MSC"]'))
    second = _run(project)
    assert second.files_parsed == 26  # guards depend on the toggle spellings


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "foreign-pickle"])
def test_corrupt_cache_entries_are_ignored_and_rebuilt(project, damage):
    reference = _findings(_run(project))
    import pickle

    for entry in (project / ".scopeguard_cache").iterdir():
        if entry.name == ".gitignore":
            continue
        data = entry.read_bytes()
        entry.write_bytes(
            {
                "truncate": data[: len(data) // 2],
                "garbage": b"scopeguard-cache\n\x00\xff not a pickle",
                "empty": b"",
                "foreign-pickle": b"scopeguard-cache\n" + pickle.dumps({"not": "facts"}),
            }[damage]
        )
    rebuilt = _run(project)
    assert not rebuilt.from_cache and _findings(rebuilt) == reference
    assert _run(project).from_cache  # and it was rewritten correctly


def test_cache_dir_that_is_a_file_or_read_only_still_gives_right_answers(project, tmp_path):
    reference = _findings(_run(project, cache_dir=tmp_path / "fresh"))
    as_file = tmp_path / "a_file"
    as_file.write_text("not a directory")
    assert _findings(_run(project, cache_dir=as_file)) == reference
    assert as_file.read_text() == "not a directory"
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        assert _findings(_run(project, cache_dir=read_only)) == reference
    finally:
        read_only.chmod(0o700)


def test_parallel_and_serial_parsing_give_identical_facts(project):
    config = load_config(project / "pyproject.toml")
    files = discover(config) * 3  # enough files to cross the parallel threshold
    assert scan_files(config.toggles, files, jobs=2) == scan_files(config.toggles, files, jobs=1)


def _imports_of_a_check_run(project) -> dict:
    """Run `scopeguard check` in a fresh interpreter; report its exit code and whether it imported
    libcst (0.15 s of import: the one thing a run answered from the cache must not pay for)."""
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['scopeguard', 'check', {str(project)!r}, '-q']\n"
        "try:\n"
        "    runpy.run_module('scopeguard', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "import json\n"
        "print(json.dumps({'code': code, 'libcst': 'libcst' in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_cached_run_does_not_import_libcst(project, run_cli):
    code, _, _ = run_cli("check", str(project), "-q")
    assert code == 1
    assert _imports_of_a_check_run(project) == {"code": 1, "libcst": False}
    target = project / "python/tvm/ir/transform.py"
    target.write_text(target.read_text() + "\nfrom tvm.contrib import msc\n")
    # A changed file is parsed by a worker, which imports libcst itself while this process reads the
    # fact store (issue 28): the reporting process does not import it for a few files...
    assert _imports_of_a_check_run(project) == {"code": 1, "libcst": False}
    # ...and imports it before forking the workers when there are many (they share its pages).
    for path in sorted((project / "python").rglob("*.py"))[:10]:
        path.write_text(path.read_text() + "\n# edited\n")
    assert _imports_of_a_check_run(project) == {"code": 1, "libcst": True}


def test_no_cache_writes_nothing(project, run_cli, tmp_path):
    xdg = tmp_path / "xdg"
    code, _, _ = run_cli("check", str(project), "--no-cache", "-q", env={"XDG_CACHE_HOME": str(xdg)})
    assert code == 1 and not xdg.exists() and not (project / ".scopeguard_cache").exists()
    code, _, _ = run_cli("check", str(project), "-q", env={"XDG_CACHE_HOME": str(xdg)})  # the control
    assert code == 1 and (xdg / "scopeguard" / "key").is_file() and any((xdg / "scopeguard" / "projects").iterdir())


def test_two_processes_sharing_one_cache_both_answer_right(project):
    cmd = [sys.executable, "-m", "scopeguard", "check", str(project), "-q", "--jobs", "1"]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate()[0] for p in runs]
    assert [p.returncode for p in runs] == [1, 1]
    assert outputs[0] == outputs[1] and len(outputs[0].splitlines()) == 12  # 12 findings; -q prints no notes (issue 27)
    follow_up = subprocess.run(cmd, capture_output=True, text=True)
    assert follow_up.stdout == outputs[0]


class _Stream:
    def __init__(self, tty):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_shows_on_a_terminal_only():
    from scopeguard.run.pipeline import Progress

    terminal, pipe = _Stream(True), _Stream(False)
    for stream in (terminal, pipe):
        progress = Progress(stream, delay=0)
        for done in range(1, 4):
            progress(done, 3)
        progress.finish()
    assert "parsed 3/3 files" in terminal.text and terminal.text.endswith("\r\033[K")
    assert pipe.text == ""


def test_progress_stays_silent_on_short_runs():
    from scopeguard.run.pipeline import Progress

    terminal = _Stream(True)
    progress = Progress(terminal, delay=60)
    progress(1, 1)
    progress.finish()
    assert terminal.text == ""


def _stores(cache_dir):
    return sorted(p.name.rsplit(".", 1)[-1] if p.name.endswith(".delta") else "store"
                  for p in cache_dir.iterdir() if p.name.startswith("facts-"))


def test_a_few_changed_files_go_to_a_delta_store_and_many_rewrite_the_store(project):
    cache_dir = project / ".scopeguard_cache"
    _run(project)
    (store,) = [p for p in cache_dir.iterdir() if p.name.startswith("facts-")]
    before = store.read_bytes()
    target = project / "python/tvm/ir/transform.py"
    target.write_text(target.read_text() + "\nfrom tvm.contrib import msc\n")
    changed = _run(project)
    assert changed.files_parsed == 1 and _stores(cache_dir) == ["delta", "store"]
    assert store.read_bytes() == before  # the big store was not rewritten for one file
    again = _run(project, cache_dir=cache_dir)  # the delta is read back: nothing to parse
    assert again.from_cache
    # With the result cache out of the way, the facts still come from store + delta.
    (cache_dir / "result").unlink()
    facts_only = _run(project)
    assert facts_only.files_parsed == 0 and _findings(facts_only) == _findings(changed)
    # The fixture is small (26 files): 16 or more changed files are past the delta's limit.
    for path in sorted((project / "python").rglob("*.py"))[:20]:
        path.write_text(path.read_text() + "\n# edited\n")
    many = _run(project)
    assert many.files_parsed == 20 and _stores(cache_dir) == ["store"]
    assert _findings(many) == _findings(changed)


def test_a_damaged_delta_store_is_ignored(project):
    cache_dir = project / ".scopeguard_cache"
    _run(project)
    target = project / "python/tvm/ir/transform.py"
    target.write_text(target.read_text() + "\nfrom tvm.contrib import msc\n")
    expected = _findings(_run(project))
    (delta,) = [p for p in cache_dir.iterdir() if p.name.endswith(".delta")]
    delta.write_bytes(delta.read_bytes()[:40])
    (cache_dir / "result").unlink()
    rerun = _run(project)
    assert rerun.files_parsed == 1 and _findings(rerun) == expected


@pytest.mark.parametrize(
    "name, text, code",
    [
        ("MANIFEST.in", "recursive-include python/tvm/relax *.py\n", "SG303"),  # packaging names the scope
        ("cmake/config.cmake", "set(USE_MSC OFF)\n", None),  # a build option now backs toggle msc
    ],
)
def test_packaging_and_cmake_files_are_part_of_the_result_key(project, name, text, code):
    first = _run(project)
    (project / name).parent.mkdir(exist_ok=True)
    (project / name).write_text(text)
    second = _run(project)
    assert not second.from_cache  # a stale answer here would hide (or keep) SG303/SG404 findings
    if code:
        assert code in {v.code for v in second.violations} - {v.code for v in first.violations}
    assert _run(project).from_cache


def test_facts_pickle_as_plain_tuples_and_round_trip():
    # The fact store holds tens of thousands of these; they pickle as tuples of field values
    # (model._compact_pickle), and must come back equal, hashable and frozen.
    import pickle

    from scopeguard.base.model import FileFacts, Guard, GuardKind, ImportSite, SiteKind

    guard = Guard(GuardKind.CONDITION, 3, "if USE_MSC", frozenset({("msc", True)}))
    site = ImportSite("tvm.contrib.msc", None, 4, 5, SiteKind.IMPORT, (guard,))
    facts = FileFacts(path="python/tvm/a.py", module="tvm.a", is_package=False, sites=(site,))
    assert site.__getstate__() == ("tvm.contrib.msc", None, 4, 5, SiteKind.IMPORT, (guard,), "")
    again = pickle.loads(pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == facts and hash(again.sites[0]) == hash(site)
    with pytest.raises(AttributeError):
        again.sites[0].line = 9
