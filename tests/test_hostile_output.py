"""Issue 25 classes 3 and 4, issue 27 point 3: output the tree cannot forge, lines by the
tokenizer's rule (and git's, in patches), consequence notes that do not drown the finding.

Each attack runs end to end where a command is involved (file names with a newline, an escape
sequence, a quote; sources with a form feed, `\\x85`, U+2028, a lone CR; a `git diff` whose added
line looks like a header) and as a property over random text for the report formats.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopeguard.base.model import Related, Severity, Step, Violation
from scopeguard.base.text import git_path, patch_lines, printable, source_lines, utf8_safe
from scopeguard.output.report import Report, render
from scopeguard.run.baseline import StaleEntry

from .inprocess import run_main

CONFIG = """\
[tool.scopeguard]
source_roots = ["src"]

[tool.scopeguard.toggles.feature]
on_when_true = ["USE_FEATURE"]

[[tool.scopeguard.scopes]]
name = "app.feature"
toggle = "feature"
"""
FORGED = "evil\n::error file=README.md,line=1::pwned\x1b[31m\r\u202e"
# What scopeguard may print; a control character anywhere else is the tree's.
UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"]


def project(root: Path, files: dict[str, str | bytes]) -> Path:
    (root / "pyproject.toml").write_text(CONFIG)
    base = {"src/app/__init__.py": "", "src/app/feature/__init__.py": ""}
    for name, content in {**base, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


def _finding_line(line: str) -> bool:
    return not line.startswith(" ") and re.match(r"^[^\n]*:\d+:\d+: SG\d{3} ", line) is not None


# -- class 3: output the tree can forge ------------------------------------------------------------


def test_text_report_escapes_a_forged_file_name(tmp_path):
    root = project(tmp_path, {f"src/app/{FORGED}.py": "import app.feature\n"})
    code, out, err = run_main("check", str(root), "--no-cache", "--select", "SG201", "--color", "always")
    assert code == 1, err
    lines = out.splitlines()
    assert len(lines) == 2  # one finding, one summary: the name forged nothing
    assert "\\n::error file=README.md,line=1::pwned\\x1b[31m\\r\\u202e.py:1:8:" in lines[0]
    assert not any(line.startswith("::") for line in lines)
    assert not UNPRINTABLE.search(out.replace("\033[", ""))  # only scopeguard's own colour codes


def test_github_format_cannot_forge_a_workflow_command(tmp_path):
    root = project(tmp_path, {f"src/app/{FORGED}.py": "import app.feature\n"})
    code, out, _ = run_main("check", str(root), "--no-cache", "--select", "SG201", "--format", "github")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("::error file=src/app/evil%0A%3A%3Aerror file=README.md%2Cline=1%3A%3Apwned")
    assert lines[1].startswith("Found 1 violation(s)")
    assert not UNPRINTABLE.search(out)


def _report(root: Path, *violations: Violation, stale=()) -> Report:
    return Report(violations=violations, files_analysed=1, files_unparsed=0, project_root=str(root),
                  repo_root=str(root), stale=stale, baseline_path=str(root / "scopeguard-baseline.json") if stale else "")


SURROGATE = Violation("SG201", "src/app/bad\udcff.py", 1, 1, "m imports \udcff\ud800 (scope s)", importer="app.bad\udcff",
                      imported="x\udcff", scope="s", chain=("a\udcff", "b"),
                      related=(Related("SG301", "p\udcff.py", 2, 1, "n\udcff", ("a\udcff", "b"), (Step("b\udcff", "p\udcff.py", 2, 1),)),))


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_and_sarif_are_utf8_with_a_lone_surrogate(tmp_path, fmt):
    text = render(fmt, _report(tmp_path, SURROGATE, Violation("SG201", "\ud800.py", 1, 1, "m")))
    data = json.loads(text.encode("utf-8").decode("utf-8", "strict"))  # the old code could not encode it
    dumped = json.dumps(data)
    assert "\\\\udcff" in dumped  # written as the escape text, documented in the README


def test_a_lone_surrogate_in_a_string_literal_reaches_no_writer_raw(tmp_path):
    root = project(tmp_path, {
        "src/app/core.py": 'import importlib\n\n\ndef f(name):\n    importlib.import_module("app.fe\\udcff" + name)\n'
                           '    importlib.import_module(f"app.{name}\\udcff")\n',
        "src/app/bad\udcff.py".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape"): "import app.feature\n",
    })
    for fmt in ("json", "sarif", "github", "text"):
        code, _, err = run_main("check", str(root), "--no-cache", "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"))
        assert code == 1, err
        data = (tmp_path / f"out.{fmt}").read_bytes().decode("utf-8", "strict")
        if fmt in ("json", "sarif"):
            json.loads(data)
    for fmt in ("json", "html", "dot", "mermaid"):
        code, _, err = run_main("graph", str(root), "--no-cache", "--format", fmt, "-o", str(tmp_path / f"g.{fmt}"))
        assert code == 0, err
        (tmp_path / f"g.{fmt}").read_bytes().decode("utf-8", "strict")


def test_graph_formats_keep_a_forged_name_on_one_line(tmp_path):
    root = project(tmp_path, {f"src/app/{FORGED}.py": "import app.feature\n"})
    code, _, err = run_main("graph", str(root), "--no-cache", "--format", "mermaid", "-o", str(tmp_path / "g.mmd"))
    assert code == 0, err
    text = (tmp_path / "g.mmd").read_text()
    assert not UNPRINTABLE.search(text)
    assert all(line.startswith(("%%", "flowchart", "  ")) for line in text.splitlines())
    code, _, err = run_main("graph", str(root), "--no-cache", "--format", "dot", "-o", str(tmp_path / "g.dot"))
    assert code == 0, err
    assert not UNPRINTABLE.search((tmp_path / "g.dot").read_text())


def test_markdown_neutralises_mentions_references_and_links():
    from scopeguard.commands.audit import _code, _md

    text = _md("@octocat see https://evil.example and www.evil.example, fix #12, mail a@b.example \x1b[2J\u2028x")
    for live in ("@octocat", "https://", "www.evil", "#12", "&#35;12", "a@b", "\x1b", "\u2028"):
        assert live not in text
    assert text.replace("\u2060", "").startswith("@octocat see https://evil.example and www.evil.example")
    assert "http://" not in _code("http://x") and "\u2060" not in _code("@requires_x")  # no mention inside <code>


def test_stale_baseline_entries_are_escaped(tmp_path):
    entry = StaleEntry("SG201", "a\n::error::x.py", "m\x1b", "x", "s", 2, 1)
    out = render("text", _report(tmp_path, stale=(entry,)))
    assert len(out.splitlines()) == 2 and "\x1b" not in out
    out = render("github", _report(tmp_path, stale=(entry,)))
    assert len(out.splitlines()) == 2 and out.splitlines()[0].startswith("::notice ")


def test_delete_plan_text_and_patch_header_escape_names(tmp_path):
    root = project(tmp_path, {f"src/app/feature/{FORGED}.py": "X = 1\n", "src/app/core.py": "from app import feature\n"})
    code, out, err = run_main("delete-plan", "app.feature", str(root), "--no-cache")
    assert not UNPRINTABLE.search(out + err)
    assert "Traceback" not in err


# -- class 4: text handled as lines by the wrong rule ---------------------------------------------


SEPARATORS = ["\n", "\r\n", "\r", "\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("sep", SEPARATORS)
def test_source_lines_are_the_tokenizers(sep):
    """Line N of source_lines holds what CPython reports at line N (a string literal hides every
    separator CPython does not end a line at)."""
    ends = sep in ("\n", "\r\n", "\r")
    inside = "" if ends else sep
    source = f"x = 'a{inside}b' if 1 else 0\ny = 2{sep if ends else chr(10)}z = 3  # {inside}\n"
    tree = ast.parse(source)
    lines = source_lines(source)
    for node in tree.body:
        assert lines[node.lineno - 1].lstrip().startswith(ast.unparse(node.targets[0]))
    assert len(lines) == 3


def test_patch_lines_are_gits():
    assert patch_lines("a\rb\fc\x85\u2028\nlast") == ["a\rb\fc\x85\u2028\n", "last"]


def test_fix_never_writes_into_a_string_after_a_form_feed():
    from scopeguard.actions.codemods import add_suppression

    source = 'x = "a\fb\fc"\nimport app.feature\n'
    result = add_suppression.apply(source, {2: ["SG201"]})
    assert result.source == 'x = "a\fb\fc"\nimport app.feature  # scopeguard: ignore[SG201]\n'
    source = 'x = "a\x85b"\rimport app.feature\r'
    result = add_suppression.apply(source, {2: ["SG201"]})
    assert result.source == 'x = "a\x85b"\rimport app.feature  # scopeguard: ignore[SG201]\r'


def test_a_suppression_after_a_lone_cr_is_on_the_tokenizers_line():
    from scopeguard.facts.suppressions import suppressions

    found = suppressions(b"import os\rimport app.feature  # scopeguard: ignore[SG201] adopted\r")
    assert [(s.line, s.codes) for s in found] == [(2, ("SG201",))]


def test_fix_end_to_end_after_a_form_feed(tmp_path):
    root = project(tmp_path, {"src/app/core.py": 'X = "a\fb\fc"\nfrom app import feature\n'})
    code, _, err = run_main("fix", str(root), "--add-suppressions", "--no-cache")
    assert "Traceback" not in err
    assert (root / "src/app/core.py").read_text() == 'X = "a\fb\fc"\nfrom app import feature  # scopeguard: ignore[SG201]\n'


def _git_repo(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*GIT, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(root), "commit", "-qm", "base"], check=True)


@pytest.mark.parametrize("odd", ["\f", "\x85", "\u2028", "\r"])
def test_delete_plan_apply_patch_is_accepted_by_git(tmp_path, odd):
    body = f'X = "a{odd}b"\nY = 1{odd}\nZ = 2'
    root = project(tmp_path, {
        "src/app/feature/m.py": body,
        'src/app/feature/sp ace "q" Ω.py': body + "\n",
        "src/app/feature/tab\tname.py": body,
        "src/app/core.py": f'W = "x{odd}y"\nif USE_FEATURE:\n    from app import feature\nV = "{odd}"\n',
        "src/app/flags.py": "USE_FEATURE = False\n",
    })
    (root / "src/app/core.py").write_text(f'from app.flags import USE_FEATURE\nW = "x{odd}y"\nif USE_FEATURE:\n'
                                          f'    from app import feature\nV = "{odd}"\n', newline="")
    _git_repo(root)
    patch = tmp_path / "del.patch"
    code, _, err = run_main("delete-plan", "app.feature", str(root), "--no-cache", "--apply", "-o", str(patch))
    assert "Traceback" not in err, err
    text = patch.read_bytes().decode()
    assert '"b/src/app/feature/sp ace \\"q\\" \\316\\251.py"' in text
    done = subprocess.run(["git", "-C", str(root), "apply", "--check", str(patch)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + text
    subprocess.run(["git", "-C", str(root), "apply", str(patch)], check=True)
    assert not (root / "src/app/feature").exists()
    assert (root / "src/app/core.py").read_bytes().decode().count(odd) == 2  # the strings are intact


def test_git_path_matches_git(tmp_path):
    names = ['sp ace.py', 'q"u.py', "Ω.py", "b\\s.py", "t\tab.py", "n\nl.py", "plain.py", "bad\udcff.py"]
    root = tmp_path / "r"
    root.mkdir()
    for name in names:
        (root / name.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")).write_text("x\n")
    _git_repo(root)
    for name in names:
        os.remove(root / name)
    out = subprocess.run([*GIT, "-C", str(root), "-c", "core.quotePath=true", "diff"], capture_output=True, check=True).stdout
    headers = [line for line in out.split(b"\n") if line.startswith(b"diff --git ")]
    assert sorted(headers) == sorted(os.fsencode(f"diff --git {git_path('a/' + n)} {git_path('b/' + n)}") for n in names)


def test_diff_takes_an_added_line_that_looks_like_a_header_for_content(tmp_path):
    from scopeguard.run.changes import Repository

    root = project(tmp_path, {"src/app/x y.py": "a = 1\nb = 2\n", 'src/app/Ω"q.py': "q = 1\n", "src/app/p.py": "k = 1\n"})
    _git_repo(root)
    (root / "src/app/x y.py").write_text('a = 1\n++ "\\x"\n+++ b/src/app/p.py\n@@ -1 +1 @@\nb = 2\n')
    (root / 'src/app/Ω"q.py').write_text("q = 1\nr = 2")
    repo = Repository.find(str(root))
    commit = repo.merge_base("HEAD")
    assert repo.changed_lines(commit) == {"src/app/x y.py": frozenset({2, 3, 4}), 'src/app/Ω"q.py': frozenset({2})}
    code, _, err = run_main("check", str(root), "--no-cache", "--diff", "HEAD")
    assert code in (0, 1) and "Traceback" not in err


# -- issue 27 point 3: notes that drown the finding -----------------------------------------------


def _many_notes(tmp_path, n: int = 14) -> Path:
    files = {"src/app/core.py": "from app import feature\n"}
    files.update({f"src/app/m{i}.py": "import app.core\n" for i in range(n)})
    return project(tmp_path, files)


def test_notes_are_summarised_and_follow_select_ignore_and_quiet(tmp_path):
    root = _many_notes(tmp_path)
    code, out, _ = run_main("check", str(root), "--no-cache")
    lines = out.splitlines()
    notes = [line for line in lines if line.startswith("  = note:")]
    assert len(notes) == 4
    assert notes[-1] == "  = note: 11 more consequence(s) in 11 more module(s); `scopeguard delete-plan app.feature` lists them"
    for flag in (["--ignore", "SG301"], ["--ignore", "SG3"], ["--select", "SG2"]):
        code, out, _ = run_main("check", str(root), "--no-cache", *flag)
        assert code == 1 and "SG301" not in out and "note:" not in out, flag
    code, out, _ = run_main("check", str(root), "--no-cache", "-q")
    assert "note:" not in out and all(_finding_line(line) for line in out.splitlines())
    code, out, _ = run_main("check", str(root), "--no-cache", "--format", "json")
    assert sum(len(v["related"]) for v in json.loads(out)["violations"]) == 14  # JSON lists them all


def test_sarif_related_locations_are_bounded(tmp_path):
    root = _many_notes(tmp_path)
    code, out, _ = run_main("check", str(root), "--no-cache", "--format", "sarif")
    result = next(r for r in json.loads(out)["runs"][0]["results"] if r.get("properties", {}).get("relatedCount"))
    assert result["properties"]["relatedCount"] == 14
    assert len(result["relatedLocations"]) == 10 and len(result["codeFlows"]) <= 10


# -- the property: random text never forges a line, never breaks JSON ------------------------------

TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["\n::error::x", "\r", "\x1b[31m", "\u2028", "\udcff", "\x85", "%0A", "a,b:c", "\ud800x"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=TEXT, message=TEXT, module=TEXT, note=TEXT, base=TEXT)
def test_report_formats_never_forge_a_line(tmp_path_factory, path, message, module, note, base):
    root = tmp_path_factory.getbasetemp()
    related = tuple(Related("SG301", note + str(i), i, 1, note, (module, "b"), (Step(module, note, 1, 1),)) for i in range(5))
    v = Violation("SG201", path or "p", 3, 2, message, importer=module, imported=module, scope=module, chain=(module,),
                  related=related)
    w = Violation("SG203", message or "q", 1, 0, path, severity=Severity.WARNING)
    stale = (StaleEntry("SG201", path, module, note, module, 2, 1),)
    report = Report(violations=(v, w), files_analysed=2, files_unparsed=0, project_root=str(root), repo_root=str(root),
                    stale=stale, baseline_path=str(root / "b.json"), diff_base=base, diff_commit="0" * 40)
    text = render("text", report)
    lines = text.splitlines()
    assert text.encode("utf-8") and not UNPRINTABLE.search(text)
    # two findings, three notes and the summary line of the first, the stale entry, the summary
    assert len(lines) == 2 + 4 + 1 + 1
    assert [bool(_finding_line(line)) for line in lines] == [True, False, False, False, False, True, False, False]
    assert all(line.startswith("  = note: ") for line in lines[1:5])
    assert lines[-1].startswith("Found 2 new violation(s)")
    text = render("github", report)
    assert text.encode("utf-8") and not UNPRINTABLE.search(text)
    assert [line.split(" ", 1)[0] for line in text.splitlines()] == ["::error", "::warning", "::notice", "Found"]
    for fmt in ("json", "sarif"):
        json.loads(render(fmt, report).encode("utf-8").decode("utf-8", "strict"))


NAMES = st.text(alphabet=st.sampled_from("ab_\n\r\x1b\u2028\x85\f \"'\\%:,@#\u202e") | st.characters(codec=None), min_size=1, max_size=8)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=NAMES, literal=NAMES, raw=st.binary(max_size=6))
def test_check_on_random_names_and_literals(tmp_path_factory, name, literal, raw):
    root = tmp_path_factory.mktemp("rnd")
    safe = name.replace("/", "_").replace("\0", "_").replace(".", "_")
    try:
        filename = os.fsdecode(os.fsencode(safe) + raw.replace(b"/", b"_").replace(b"\0", b"_"))
        project(root, {f"src/app/x{filename}.py": f"import app.feature\nX = {literal!r}\n",
                       "src/app/core.py": f"import importlib\nimportlib.import_module({literal!r} + str(1))\nY = {literal!r}\f\n"})
    except (OSError, UnicodeEncodeError):
        return  # a name this file system refuses
    for fmt in ("text", "github", "json", "sarif"):
        code, out, err = run_main("check", str(root), "--no-cache", "--format", fmt)
        assert code in (0, 1), err
        assert "Traceback" not in err
        out.encode("utf-8")
        if fmt in ("json", "sarif"):
            json.loads(out)
        elif fmt == "text":
            assert all(_finding_line(line) or line.startswith(("  = note: ", "Found ", "No ")) for line in out.splitlines())
            assert not UNPRINTABLE.search(out)
        else:
            assert all(line.startswith(("::error ", "::warning ", "::notice ", "Found ", "No ")) for line in out.splitlines())
            assert not UNPRINTABLE.search(out)


def test_printable_and_utf8_safe():
    assert printable("a\nb\r\t\x1b\x7f\x85\u2028\u202e\u2066\udcff\\") == "a\\nb\\r\\t\\x1b\\x7f\\x85\\u2028\\u202e\\u2066\\udcff\\"
    assert utf8_safe("ok\udcffé") == "ok\\udcffé"
