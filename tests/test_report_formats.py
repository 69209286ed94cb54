"""`check --format text|json|sarif|github`: exact locations in every format, repository-relative
paths where CI services need them, SARIF that validates against the official 2.1.0 schema."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from scopeguard.base.model import Severity, Violation
from scopeguard.output.report import Report, render
from scopeguard.output.report.json import SCHEMA_VERSION

from .conftest import FIXTURES, REPO
from .inprocess import run_main

jsonschema = pytest.importorskip("jsonschema")

# The official schema: beside the repository (CI clones ../shared there), or the shared folder of
# this machine's worktrees (/work/shared); tests that need it skip with the reason where absent.
SARIF_SCHEMA = next(
    (p for p in (REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json",
                 Path("/work/shared/schemas/sarif-schema-2.1.0.json")) if p.is_file()),
    REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json",
)
JSON_SCHEMA = REPO / "docs" / "check-json-schema.json"

# The two findings of tvm_like selected below, as `check` prints them (project-relative paths).
SG201_MESSAGES = [
    ("python/tvm/driver/build.py", 21, 29, "SG201", "tvm.driver.build imports tvm.contrib.msc (scope tvm.contrib.msc) at import time without a guard (`if not USE_MSC` runs it only while toggle msc is OFF); guard it with `if USE_MSC:`, move it into tvm.contrib.msc, or add tvm.driver.build to the scope's `allow`"),
    ("python/tvm/driver/build.py", 24, 12, "SG201", "tvm.driver.build imports tvm.contrib.msc.core (scope tvm.contrib.msc) at import time without a guard (`if USE_MSC or os.environ.get(\"FORCE\")` does not ensure toggle msc is on); guard it with `if USE_MSC:`, move it into tvm.contrib.msc, or add tvm.driver.build to the scope's `allow`"),
    ("python/tvm/ir/printer.py", 5, 27, "SG203", "tvm.ir.printer imports tvm.relax (scope tvm.relax) under TYPE_CHECKING only (breaks type checking when the scope is deleted); move the annotated code into tvm.relax, type against an interface outside it, or add tvm.ir.printer to the scope's `allow`"),
    ("tests/python/ir/test_ir.py", 4, 29, "SG201", "tests/python/ir/test_ir.py imports tvm.contrib.msc.core (scope tvm.contrib.msc) at import time without a guard; guard it with `@requires_msc`, `if USE_MSC:`, or move the test under the scope's `extra_paths`"),
]


@pytest.fixture
def monorepo(tmp_path) -> Path:
    """tvm_like in a subfolder `proj` of a repository (a `.git` folder marks the repository root)."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(FIXTURES / "tvm_like", tmp_path / "proj", ignore=shutil.ignore_patterns(".scopeguard_cache"))
    return tmp_path


def _check(run_main, repo: Path, *args: str, env=None):
    return run_main("check", "proj", "--select", "SG201,SG203", "--no-cache", *args, cwd=repo, env=env)


def test_github_annotations_are_exact_with_repository_relative_paths(monorepo):
    code, out, err = _check(run_main, monorepo, "--format", "github", "-q")
    assert (code, err) == (1, "")
    expected = [
        f"::{'warning' if c == 'SG203' else 'error'} file=proj/{p},line={l},col={col},title={c}::{m}"
        for p, l, col, c, m in SG201_MESSAGES
    ]
    assert out.splitlines() == expected
    # Without -q the summary follows as a plain log line.
    _, out, _ = _check(run_main, monorepo, "--format", "github")
    assert out.splitlines()[:-1] == expected
    assert out.splitlines()[-1].startswith("Found 4 violation(s) in 3 file(s) (SG201 x3, SG203 x1)")


def test_github_escapes_data_and_properties(tmp_path):
    report = Report(
        violations=(Violation("SG201", "a,b:c.py", 3, 0, "100% wrong\nsecond line\r", severity=Severity.WARNING),
                    Violation("SG001", "gone.py", 0, 0, "cannot read")),
        files_analysed=1, files_unparsed=1, project_root=str(tmp_path), repo_root=str(tmp_path),
    )
    assert render("github", report, quiet=True).splitlines() == [
        "::warning file=a%2Cb%3Ac.py,line=3,title=SG201::100%25 wrong%0Asecond line%0D",
        "::error file=gone.py,title=SG001::cannot read",
    ]


def test_text_output_is_plain_off_a_terminal_and_coloured_only_when_allowed(monorepo):
    code, plain, _ = _check(run_main, monorepo)
    assert code == 1 and "\033[" not in plain
    assert plain.splitlines()[0] == f"proj/{SG201_MESSAGES[0][0]}:21:29: SG201 {SG201_MESSAGES[0][4]}"
    _, coloured, _ = _check(run_main, monorepo, "--color", "always", env={"NO_COLOR": ""})
    assert "\033[1m\033[31mSG201\033[0m" in coloured and "\033[1m\033[33mSG203\033[0m" in coloured
    # Stripping the colour gives the plain report back, byte for byte.
    import re

    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == plain
    _, no_color, _ = _check(run_main, monorepo, "--color", "always", env={"NO_COLOR": "1"})
    assert no_color == plain


def test_use_colour_decision():
    from scopeguard.output.report.text import use_colour

    class Tty:
        def isatty(self):
            return True

    class Pipe:
        def isatty(self):
            return False

    assert use_colour(Tty(), "auto", {}) is True
    assert use_colour(Pipe(), "auto", {}) is False
    assert use_colour(Tty(), "auto", {"NO_COLOR": "1"}) is False
    assert use_colour(Tty(), "never", {}) is False
    assert use_colour(Pipe(), "always", {}) is True
    assert use_colour(Pipe(), "always", {"NO_COLOR": "yes"}) is False


def test_json_report_conforms_to_its_documented_schema(monorepo):
    code, out, _ = _check(run_main, monorepo, "--format", "json")
    assert code == 1
    data = json.loads(out)
    schema = json.loads(JSON_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    jsonschema.validate(data, schema)
    assert data["schema_version"] == SCHEMA_VERSION == 2
    assert data["project_root"] == str((monorepo / "proj").resolve())
    assert [(v["path"], v["line"], v["column"], v["code"], v["message"]) for v in data["violations"]] == SG201_MESSAGES
    assert data["summary"] == {
        "violations": 4, "files_with_violations": 3, "files_analysed": 26, "files_unparsed": 0,
        "by_code": {"SG201": 3, "SG203": 1},
    }
    first = data["violations"][0]
    assert (first["rule"], first["severity"], first["importer"], first["imported"], first["scope"]) == (
        "unguarded-import", "error", "tvm.driver.build", "tvm.contrib.msc", "tvm.contrib.msc")
    assert data["violations"][2]["severity"] == "warning"
    # The schema really checks: a wrong type and a missing key are refused.
    broken = copy.deepcopy(data)
    broken["violations"][0]["line"] = "21"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    del broken["violations"][0]["line"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def _sarif_validator():
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the official SARIF schema is not at {SARIF_SCHEMA} (CI clones ../shared beside the repository)")
    schema = json.loads(SARIF_SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_sarif_validates_against_the_official_schema_and_is_exact(monorepo):
    validator = _sarif_validator()
    code, out, _ = _check(run_main, monorepo, "--format", "sarif")
    assert code == 1
    sarif = json.loads(out)
    errors = sorted(validator.iter_errors(sarif), key=str)
    assert errors == [], errors[0].message if errors else ""
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": monorepo.resolve().as_uri() + "/"}}
    located = [
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
            r["ruleId"], r["level"], r["message"]["text"],
        )
        for r in run["results"]
    ]
    assert located == [
        (f"proj/{p}", "SRCROOT", l, col, c, "warning" if c == "SG203" else "error", m) for p, l, col, c, m in SG201_MESSAGES
    ]
    rules = run["tool"]["driver"]["rules"]
    from scopeguard.rules import CATALOGUE, RULES_BY_CODE

    assert [r["id"] for r in rules] == sorted(rule.code for rule in CATALOGUE)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    sg201 = next(r for r in rules if r["id"] == "SG201")
    assert sg201["help"]["text"] == RULES_BY_CODE["SG201"].documentation()
    assert sg201["fullDescription"]["text"] == (  # the "What it does" section, as one paragraph
        "Reports a module outside a scope that imports the scope when it is itself imported, with no guard by "
        "the scope's toggle. An import inside a function (run at import time through calls, or lazily: SG202) "
        "is not reported when the function's own module imports the same module with no guard above the "
        "function's `def`: by the time the function exists that statement has loaded it, and that statement "
        "is the finding."
    )
    assert "## Why is this bad" in sg201["help"]["markdown"]
    assert sg201["defaultConfiguration"]["level"] == "error"
    assert next(r for r in rules if r["id"] == "SG203")["defaultConfiguration"]["level"] == "warning"
    # A finding keeps its fingerprint when lines move; two identical imports get different ones.
    prints = [r["partialFingerprints"]["scopeguard/v1"] for r in run["results"]]
    assert len(set(prints)) == len(prints)


def test_sarif_validation_really_checks(monorepo):
    """A broken document fails: the schema's $refs (run -> result -> location -> region) are followed."""
    validator = _sarif_validator()
    _, out, _ = _check(run_main, monorepo, "--format", "sarif")
    good = json.loads(out)
    assert validator.is_valid(good)
    for breaking in (
        lambda d: d["runs"][0]["results"][0].update(level="fatal"),  # not a SARIF level
        lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].update(startLine=0),
        lambda d: d["runs"][0]["results"][0].pop("message"),
        lambda d: d["runs"][0]["tool"]["driver"]["rules"][0].update(helpText="unknown property"),
        lambda d: d.update(version="2.0.0"),
    ):
        broken = copy.deepcopy(good)
        breaking(broken)
        assert not validator.is_valid(broken)


def test_sarif_of_a_clean_run_and_of_a_finding_without_a_line(tmp_path):
    validator = _sarif_validator()
    from scopeguard.output.report.sarif import document

    clean = Report((), 3, 0, str(tmp_path), str(tmp_path))
    assert validator.is_valid(document(clean)) and document(clean)["runs"][0]["results"] == []
    unreadable = Report((Violation("SG001", "a b.py", 0, 0, "cannot read"),), 0, 1, str(tmp_path), str(tmp_path))
    result = document(unreadable)["runs"][0]["results"][0]
    assert validator.is_valid(document(unreadable))
    assert result["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "a%20b.py", "uriBaseId": "SRCROOT"}}


def test_output_file_gets_the_report_and_stdout_stays_empty(monorepo):
    code, out, _ = _check(run_main, monorepo, "--format", "sarif", "-o", "results.sarif")
    assert (code, out) == (1, "")
    assert json.loads((monorepo / "results.sarif").read_text())["version"] == "2.1.0"
    code, _, err = _check(run_main, monorepo, "-o", str(monorepo / "missing" / "x.txt"))
    assert code == 2 and "cannot write the report" in err
