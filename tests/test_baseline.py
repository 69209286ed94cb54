"""`scopeguard baseline` and `check` with a baseline: start from today's violations, fail only on
new ones, and report entries that no longer occur so that the file only shrinks."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from scopeguard.run.baseline import BaselineError, dumps, load, split
from scopeguard.base.model import Violation

from .conftest import FIXTURES
from .inprocess import run_main

BUILD = "python/tvm/driver/build.py"
TEST_IR = "tests/python/ir/test_ir.py"


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copytree(FIXTURES / "tvm_like", tmp_path / "proj", ignore=shutil.ignore_patterns(".scopeguard_cache"))
    return tmp_path / "proj"


def _baseline(run_main, project: Path, *args: str):
    return run_main("baseline", str(project), "--no-cache", *args, cwd=project.parent)


def _check(run_main, project: Path, *args: str):
    return run_main("check", str(project), "--no-cache", *args, cwd=project.parent)


def _today(run_main, project: Path) -> int:
    """How many violations the project has without a baseline (other issues may add rules)."""
    code, out, _ = _check(run_main, project, "--no-baseline", "-q")
    assert code == 1
    return len([line for line in out.splitlines() if not line.startswith("  = note: ")])  # notes are no findings


def test_baseline_file_is_reviewable_stable_and_round_trips(project):
    today = _today(run_main, project)  # 12 in tvm_like at the time of writing, each a distinct key
    code, out, err = _baseline(run_main, project)
    assert (code, err) == (0, "")
    assert out == f"Wrote proj/scopeguard-baseline.json: {today} entries for {today} violation(s); `scopeguard check` now reports only new ones.\n"
    path = project / "scopeguard-baseline.json"
    text = path.read_text()
    lines = text.splitlines()
    assert lines[:3] == ["{", '  "scopeguard_baseline": 1,', '  "entries": [']
    assert lines[-2:] == ["  ]", "}"]
    entries = [json.loads(line.strip().rstrip(",")) for line in lines[3:-2]]
    assert len(entries) == today
    assert entries[0] == {
        "code": "SG101", "path": "python/tvm/relax/frontend/onnx.py", "importer": "tvm.relax.frontend.onnx",
        "imported": "tvm.contrib.msc.core", "scope": "tvm.contrib.msc", "count": 1,
    }
    assert all("line" not in e and "column" not in e for e in entries)
    assert [tuple(e.values())[:5] for e in entries] == sorted(tuple(e.values())[:5] for e in entries)
    assert str(project) not in text  # nothing machine-specific
    # Written twice in a row: the same bytes; read back: the same counts.
    _baseline(run_main, project)
    assert path.read_text() == text
    assert dumps(load(str(path))) == text


def test_check_hides_baselined_violations_even_when_lines_move(project):
    today = _today(run_main, project)
    _baseline(run_main, project)
    build = project / BUILD
    build.write_text("# a new header comment\n\n" + build.read_text())
    code, out, _ = _check(run_main, project)
    assert (code, out) == (0, f"No new violations; 26 file(s) analysed; {today} in the baseline.\n")
    assert _today(run_main, project) == today


def test_new_violations_are_reported_and_old_ones_stay_hidden(project):
    today = _today(run_main, project)
    _baseline(run_main, project)
    (project / "python/tvm/ir/extra.py").write_text("import tvm.relax\n")
    test_ir = project / TEST_IR
    # A second, identical import in a file that already has one: the count grows, the later one is new.
    test_ir.write_text(test_ir.read_text() + "\nfrom tvm.contrib.msc import core as again\n")
    code, out, _ = _check(run_main, project)
    assert code == 1
    lines = out.splitlines()
    assert [line.split(": ")[0] + ": " + line.split(": ")[1].split()[0] for line in lines[:-1]] == [
        "proj/python/tvm/ir/extra.py:1:8: SG201",
        f"proj/{TEST_IR}:{len(test_ir.read_text().splitlines())}:29: SG201",
    ]
    assert lines[-1] == (
        f"Found 2 new violation(s) in 2 file(s) (SG201 x2); 27 file(s) analysed; {today} in the baseline."
    )


def test_stale_entries_are_reported_but_do_not_fail_unless_asked(project):
    today = _today(run_main, project)
    _baseline(run_main, project)
    test_ir = project / TEST_IR
    test_ir.write_text(test_ir.read_text().replace("from tvm.contrib.msc import core", "from tvm.ir import core"))
    code, out, _ = _check(run_main, project)
    assert code == 0
    assert out.splitlines() == [
        "proj/scopeguard-baseline.json: stale baseline entry SG201 tests/python/ir/test_ir.py -> tvm.contrib.msc.core "
        "(tests/python/ir/test_ir.py): recorded 1, found 0; run `scopeguard baseline` to shrink the baseline",
        f"No new violations; 26 file(s) analysed; {today - 1} in the baseline, 1 stale baseline entry.",
    ]
    code, _, _ = _check(run_main, project, "--fail-on-stale")
    assert code == 1
    # Only the codes checked can be stale: with --select SG101 the SG201 entry is not judged.
    code, out, _ = _check(run_main, project, "--select", "SG101", "--fail-on-stale")
    assert (code, out) == (0, "No new violations; 26 file(s) analysed; 1 in the baseline.\n")
    # Stale entries in the machine formats.
    _, out, _ = _check(run_main, project, "--format", "json")
    stale = json.loads(out)["baseline"]["stale"]
    assert stale == [{"code": "SG201", "path": TEST_IR, "importer": TEST_IR, "imported": "tvm.contrib.msc.core",
                      "scope": "tvm.contrib.msc", "recorded": 1, "found": 0}]
    _, out, _ = _check(run_main, project, "--format", "github", "-q")
    assert out.startswith("::notice file=scopeguard-baseline.json,title=stale baseline entry::stale baseline entry SG201 ")  # no .git: the project is the root
    # Rewriting the baseline drops the entry: the file only shrinks.
    _baseline(run_main, project)
    code, out, _ = _check(run_main, project, "--fail-on-stale")
    assert (code, out) == (0, f"No new violations; 26 file(s) analysed; {today - 1} in the baseline.\n")


def test_explicit_baseline_file_and_bad_baselines(project, tmp_path):
    elsewhere = tmp_path / "ci" / "sg.json"
    elsewhere.parent.mkdir()
    code, _, _ = _baseline(run_main, project, "-o", str(elsewhere))
    assert code == 0 and not (project / "scopeguard-baseline.json").exists()
    code, out, _ = _check(run_main, project, "--baseline", str(elsewhere))
    assert code == 0 and out.startswith("No new violations")
    code, _, err = _check(run_main, project, "--baseline", str(tmp_path / "nope.json"))
    assert code == 2 and "no such baseline file" in err
    elsewhere.write_text('{"scopeguard_baseline": 1,\n "entries": [\n {"code": "SG201"}\n]}\n')
    code, _, err = _check(run_main, project, "--baseline", str(elsewhere))
    assert code == 2 and f"{elsewhere}: entry 1: must have exactly the keys" in err
    elsewhere.write_text('{"scopeguard_baseline": 1,\n "entries": [,]}\n')
    code, _, err = _check(run_main, project, "--baseline", str(elsewhere))
    assert code == 2 and f"{elsewhere}:2: the baseline is not valid JSON" in err
    code, _, err = _check(run_main, project, "--baseline", str(elsewhere), "--no-baseline")
    assert code == 2 and "contradict" in err


@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"entries": []}', "not a scopeguard baseline"),
        ('{"scopeguard_baseline": 2, "entries": []}', "format 2 is not supported"),
        ('{"scopeguard_baseline": 1, "entries": [], "x": 1}', "unknown key(s) 'x'"),
        ('{"scopeguard_baseline": 1, "entries": {}}', '"entries" must be a list'),
        ('{"scopeguard_baseline": 1, "entries": [{"code": "SG201", "path": "a", "importer": "a", "imported": "b", '
         '"scope": "b", "count": 0}]}', "count must be a whole number from 1 to 1000000000, not 0"),
        ('{"scopeguard_baseline": 1, "entries": [{"code": "SG201", "path": "a", "importer": 1, "imported": "b", '
         '"scope": "b", "count": 1}]}', "must be strings"),
    ],
)
def test_load_refuses_malformed_files(tmp_path, text, problem):
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(BaselineError, match=None) as caught:
        load(str(path))
    assert problem in str(caught.value) and str(path) in str(caught.value)


def test_load_refuses_duplicate_entries(tmp_path):
    entry = {"code": "SG201", "path": "a.py", "importer": "a", "imported": "s", "scope": "s", "count": 1}
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"scopeguard_baseline": 1, "entries": [entry, entry]}))
    with pytest.raises(BaselineError, match="entry 2: duplicates an earlier entry"):
        load(str(path))


def test_split_takes_likely_new_occurrences_as_new_first():
    a = Violation("SG201", "a.py", 3, 1, "m", importer="a", imported="s", scope="s")
    b = Violation("SG201", "a.py", 9, 1, "m", importer="a", imported="s", scope="s")
    known = Counter({("SG201", "a.py", "a", "s", "s"): 1})
    assert split([a, b], known) == ([b], [a])  # without a hint: the later one is new
    assert split([a, b], known, lambda v: v.line == 3) == ([a], [b])
    assert split([a, b], Counter()) == ([a, b], [])


def test_baseline_records_what_check_reports_under_the_configs_select_and_ignore(project):
    """`ignore = ["SG202"]` in [tool.scopeguard]: `check` never reports SG202, so the baseline does
    not record it either (an entry check can never match would only be stale)."""
    config = project / "pyproject.toml"
    text = config.read_text()
    assert "\nignore =" not in text
    config.write_text(text.replace("[tool.scopeguard]\n", '[tool.scopeguard]\nignore = ["SG202"]\n', 1))
    code, _, err = _baseline(run_main, project)
    assert (code, err) == (0, "")
    entries = json.loads((project / "scopeguard-baseline.json").read_text())["entries"]
    assert entries and not [e for e in entries if e["code"] == "SG202"]
    code, out, _ = _check(run_main, project, "--fail-on-stale")
    assert code == 0, out
