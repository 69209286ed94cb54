"""Issue 16: one decision, one finding — the unit of a finding, root cause and consequences,
suppressions read from real comments, selection and severity from the config."""

from __future__ import annotations

import json
import textwrap

PYPROJECT = """\
[tool.scopeguard]
source_roots = ["."]
{extra}
[tool.scopeguard.toggles.feat]
on_when_true = ["USE_FEAT"]

[[tool.scopeguard.scopes]]
name = "pkg.feat"
toggle = "feat"
"""


def _project(tmp_path, files: dict[str, str], extra: str = ""):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(extra=extra))
    base = {"pkg/__init__.py": "", "pkg/feat/__init__.py": "", "pkg/feat/op.py": ""}
    for path, text in {**base, **files}.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return str(tmp_path)


def _json(run_cli, root, *extra):
    code, out, err = run_cli("check", root, "--no-cache", "--format", "json", *extra)
    return code, json.loads(out)["violations"], err


def _where(found):
    return [(v["code"], v["path"], v["line"]) for v in found]


def test_multi_line_from_import_is_one_finding_at_the_statement(run_cli, tmp_path):
    names = [f"name{i}" for i in range(20)]
    body = "x = 1\nfrom pkg.feat.op import (\n" + "".join(f"    {n},\n" for n in names) + ")\n"
    root = _project(tmp_path, {"pkg/user.py": body})
    code, found, _ = _json(run_cli, root, "--select", "SG201")
    assert code == 1
    assert _where(found) == [("SG201", "pkg/user.py", 2)]
    assert found[0]["column"] == 1 and found[0]["names"] == names
    assert "[imports name0, name1," in found[0]["message"]


def test_root_cause_with_two_related_notes(run_cli, tmp_path):
    root = _project(tmp_path, {"pkg/__init__.py": "from . import user\n", "pkg/user.py": "import pkg.feat\n"})
    code, found, _ = _json(run_cli, root)
    assert code == 1
    assert _where(found) == [("SG201", "pkg/user.py", 1)]
    related = found[0]["related"]
    assert [(r["code"], r["path"], r["line"]) for r in related] == [
        ("SG301", "pkg/__init__.py", 1), ("SG402", "pkg/__init__.py", 1)]
    assert [s["module"] for s in related[1]["steps"]] == ["pkg.user", "pkg.feat"]
    code, out, _ = run_cli("check", root, "--no-cache")
    assert out.splitlines()[1].startswith("  = note: ") and out.splitlines()[2].startswith("  = note: ")


def test_suppressing_the_root_cause_silences_its_consequences(run_cli, tmp_path):
    root = _project(tmp_path, {"pkg/__init__.py": "from . import user\n",
                               "pkg/user.py": "import pkg.feat  # scopeguard: ignore[SG201]: reviewed\n"})
    code, found, _ = _json(run_cli, root)
    assert (code, found) == (0, [])


def test_a_consequence_without_a_root_finding_stands_alone(run_cli, tmp_path):
    # pkg.user is an approved integration point (allow): no SG201, so SG402/SG301 stand alone
    root = _project(tmp_path, {"pkg/__init__.py": "from . import user\n", "pkg/user.py": "import pkg.feat\n"})
    config = tmp_path / "pyproject.toml"
    config.write_text(config.read_text() + 'allow = ["pkg.user"]\n')
    code, found, _ = _json(run_cli, root)
    assert code == 1
    assert sorted(_where(found)) == [("SG301", "pkg/__init__.py", 1), ("SG402", "pkg/user.py", 1)]
    assert all(v["related"] == [] for v in found)


def test_suppression_on_the_comment_line_above_and_on_any_line_of_the_statement(run_cli, tmp_path):
    root = _project(tmp_path, {
        "pkg/a.py": "# scopeguard: ignore[SG201]: reviewed\nimport pkg.feat\n",
        "pkg/b.py": "from pkg.feat.op import (\n    x,\n    y,  # scopeguard: ignore[SG201]: reviewed\n)\n",
        "pkg/c.py": "# scopeguard: ignore[SG201]: not directly above\n\nimport pkg.feat\n",
    })
    code, found, _ = _json(run_cli, root, "--select", "SG201,SG003")
    assert sorted(_where(found)) == [("SG003", "pkg/c.py", 1), ("SG201", "pkg/c.py", 3)]


def test_text_in_a_string_does_not_suppress(run_cli, tmp_path):
    root = _project(tmp_path, {"pkg/a.py": 'import pkg.feat; _ = "# scopeguard: ignore"\n'})
    code, found, _ = _json(run_cli, root, "--select", "SG201")
    assert _where(found) == [("SG201", "pkg/a.py", 1)]


def test_unused_suppression_and_unknown_code_are_reported(run_cli, tmp_path):
    root = _project(tmp_path, {
        "pkg/a.py": "import os  # scopeguard: ignore[SG201]\n",
        "pkg/b.py": "import pkg.feat  # scopeguard: ignore[SG999]\n",
        "pkg/c.py": "import pkg.feat  # scopeguard: ignore[SG201, SG205]\n",
    })
    code, found, _ = _json(run_cli, root, "--select", "SG0,SG2")
    assert code == 1
    assert sorted((v["code"], v["path"], v["line"], v["imported"]) for v in found) == [
        ("SG003", "pkg/a.py", 1, "SG201"),
        ("SG003", "pkg/c.py", 1, "SG205"),
        ("SG004", "pkg/b.py", 1, "SG999"),
        ("SG201", "pkg/b.py", 1, "pkg.feat"),
    ]


def test_require_reason(run_cli, tmp_path):
    root = _project(tmp_path, {"pkg/a.py": "import pkg.feat  # scopeguard: ignore[SG201]\n",
                               "pkg/b.py": "import pkg.feat  # scopeguard: ignore[SG201]: integration point\n"},
                    extra="require_reason = true")
    code, found, _ = _json(run_cli, root, "--select", "SG0,SG201")
    assert _where(found) == [("SG005", "pkg/a.py", 1)]


def test_config_ignore_and_per_file_ignores(run_cli, tmp_path):
    files = {"pkg/a.py": "import pkg.feat\n", "tests/test_a.py": "import pkg.feat\n",
             "pkg/b.py": "def f():\n    import pkg.feat\n"}
    root = _project(tmp_path, files, extra='ignore = ["SG202"]\nper_file_ignores = { "tests/**" = ["SG2"] }')
    code, found, _ = _json(run_cli, root, "--select", "SG2")  # --select replaces `select`, `ignore` stays
    assert _where(found) == [("SG201", "pkg/a.py", 1)]
    code, found, _ = _json(run_cli, root, "--ignore", "SG201")  # --ignore replaces the config's
    assert ("SG202", "pkg/b.py", 2) in _where(found) and ("SG201", "pkg/a.py", 1) not in _where(found)


def test_exit_zero_and_fail_on(run_cli, tmp_path):
    root = _project(tmp_path, {"pkg/a.py": "import pkg.feat\n"})
    code, out, _ = run_cli("check", root, "--no-cache", "--exit-zero")
    assert code == 0 and "pkg/a.py:1:8: SG201" in out
    root2 = _project(tmp_path / "w", {"pkg/a.py": "try:\n    import pkg.feat\nexcept ImportError:\n    pass\n"})
    code, out, _ = run_cli("check", root2, "--no-cache", "--select", "SG204")
    assert code == 1 and "SG204" in out
    code, out, _ = run_cli("check", root2, "--no-cache", "--select", "SG204", "--fail-on", "error")
    assert code == 0 and "SG204" in out


def test_all_config_errors_at_once(run_cli, tmp_path):
    root = _project(tmp_path, {}, extra='selct = ["SG2"]\nfail_on = "sometimes"\nignore = ["X1"]')
    code, out, err = run_cli("check", root, "--no-cache")
    assert code == 2
    assert "selct" in err and "fail_on" in err and "'X1' is not a rule code" in err
    assert len(err.strip().splitlines()) == 3


def test_empty_scope_list_warns(run_cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.scopeguard]\nsource_roots = ["."]\n')
    (tmp_path / "a.py").write_text("import os\n")
    code, out, err = run_cli("check", str(tmp_path), "--no-cache")
    assert code == 0 and "no scopes are configured" in err and "scopeguard init" in err


def test_sarif_related_locations_and_code_flows_validate(run_cli, tmp_path):
    from .test_report_formats import SARIF_SCHEMA, _sarif_validator

    validator = _sarif_validator()  # skips, naming SARIF_SCHEMA, where the official schema is absent
    assert SARIF_SCHEMA.is_file()
    root = _project(tmp_path, {"pkg/__init__.py": "from . import user\n", "pkg/user.py": "import pkg.feat\n"})
    code, out, _ = run_cli("check", root, "--no-cache", "--format", "sarif")
    sarif = json.loads(out)
    errors = list(validator.iter_errors(sarif))
    assert errors == [], errors[0].message if errors else ""
    (result,) = sarif["runs"][0]["results"]
    assert [(r["id"], r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"])
            for r in result["relatedLocations"]] == [(1, "pkg/__init__.py", 1), (2, "pkg/__init__.py", 1)]
    flows = [[loc["location"]["physicalLocation"]["artifactLocation"]["uri"] for loc in flow["threadFlows"][0]["locations"]]
             for flow in result["codeFlows"]]
    assert flows == [["pkg/__init__.py", "pkg/user.py"], ["pkg/__init__.py", "pkg/user.py"]]
    # GitHub code scanning's required properties (docs: "SARIF support for code scanning")
    assert sarif["version"] == "2.1.0" and "$schema" in sarif
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] and all(rule["id"] and rule["shortDescription"]["text"] and rule["helpUri"] for rule in driver["rules"])
    assert result["ruleId"] == "SG201" and result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "pkg/user.py" and location["region"]["startLine"] == 1
    assert result["partialFingerprints"]


def test_sg5xx_is_informational_in_diff_unless_selected(tmp_path, monkeypatch):
    import shutil

    import pytest

    if shutil.which("git") is None:
        pytest.skip("`git` is not on PATH; --diff needs it")
    from .inprocess import run_main
    from .test_diff import GIT_ENV, append, init_repo

    import os

    for key in list(os.environ):
        if key.startswith("GIT_"):
            monkeypatch.delenv(key)
    for key, value in GIT_ENV.items():
        if key.startswith("GIT_") or key == "HOME":
            monkeypatch.setenv(key, value)
    repo = tmp_path / "repo"
    init_repo(repo)
    line = append(repo, "python/tvm/ir/transform.py",
                  "from tvm.support import USE_MSC\n\nif USE_MSC:\n    from tvm.contrib import msc\n")
    code, out, err = run_main("check", ".", "--no-cache", "--diff", "HEAD", cwd=repo)
    assert code == 0, out + err  # a correctly guarded new import: SG502 is shown, it does not block
    assert f"python/tvm/ir/transform.py:{line + 3}:" in out and "SG502" in out
    code, out, _ = run_main("check", ".", "--no-cache", "--diff", "HEAD", "--select", "SG502", cwd=repo)
    assert code == 1 and "SG502" in out


def test_paths_flag_gives_every_format_one_base(tmp_path):
    from .inprocess import run_main

    project = tmp_path / "repo" / "proj"
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    _project(project, {"pkg/a.py": "import pkg.feat\n"})
    def first_path(fmt, *args):
        code, out, err = run_main("check", "proj", "--no-cache", "--select", "SG201", "--format", fmt, *args,
                                  cwd=tmp_path / "repo")
        assert code == 1, err
        if fmt == "text":
            return out.split(":")[0]
        if fmt == "github":
            return out.split("file=")[1].split(",")[0]
        data = json.loads(out)
        if fmt == "json":
            return data["violations"][0]["path"]
        return data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    # the defaults: text from the working directory, json from the project, sarif/github from the repository
    assert [first_path(f) for f in ("text", "json", "sarif", "github")] == ["proj/pkg/a.py", "pkg/a.py", "proj/pkg/a.py", "proj/pkg/a.py"]
    for base, expected in (("project", "pkg/a.py"), ("repo", "proj/pkg/a.py"), ("cwd", "proj/pkg/a.py")):
        assert {first_path(f, "--paths", base) for f in ("text", "json", "sarif", "github")} == {expected}
    _, out, _ = run_main("check", "proj", "--no-cache", "--format", "json", "--paths", "project", cwd=tmp_path / "repo")
    assert json.loads(out)["paths_relative_to"] == str(project)
