"""config/validate.py: the _Checker that turns the parsed table into a Config with located errors,
and the hints that suggest the spelling probably meant. Direct tests first, then checks across
scopes (cycles, overlaps) through load_config."""

from __future__ import annotations

import os

import pytest

from scopeguard.base.model import Config, Registries, Toggle
from scopeguard.config import ConfigError, load_config
from scopeguard.config.errors import ConfigErrors
from scopeguard.config.validate import _Checker, _close_matches, _is_within, _kind, _module_hint, _path_hint

from .test_config import SCOPE, write

# --------------------------------------------------------------------------------------------
# _Checker


def checker(tmp_path, text: str = "") -> _Checker:
    return _Checker(str(tmp_path / "pyproject.toml"), str(tmp_path), text)


def test_checker_builds_the_config_from_a_parsed_table(tmp_path):
    (tmp_path / "src").mkdir()
    table = {"toggles": {"msc": {"on_when_true": ["USE_MSC"]}}, "registries": {"lookup": ["find"]}}
    config = checker(tmp_path).config(table, None, None, None)
    assert config == Config(root=str(tmp_path), config_path=str(tmp_path / "pyproject.toml"), source_roots=("src",),
                            toggles=(Toggle(name="msc", on_when_true=("USE_MSC",)),),
                            registries=Registries(lookup=("find",)))


def test_checker_fail_locates_the_key_in_its_text(tmp_path):
    check = checker(tmp_path, '[tool.scopeguard]\n\nexclude = [\n  "a",\n  "b",\n]\n')
    with pytest.raises(ConfigError) as info:
        check.fail(("exclude", 1), "bad", "fix it", value="b")
    assert (info.value.line, info.value.key, info.value.problem, info.value.hint) == (
        5, "tool.scopeguard.exclude[1]", "bad", "fix it")
    with pytest.raises(ConfigError) as info:
        check.fail(("exclude",), "bad", line=0)  # a line given wins over the text
    assert info.value.line == 0


def test_checker_reports_independent_mistakes_together(tmp_path):
    with pytest.raises(ConfigErrors) as info:
        checker(tmp_path).config({"colour": 1, "fail_on": "sometimes", "toggles": 3}, None, None, None)
    assert [e.key for e in info.value.errors] == [
        "tool.scopeguard.colour", "tool.scopeguard.toggles", "tool.scopeguard.fail_on"]


def test_checker_codes_are_upper_cased_and_checked(tmp_path):
    check = checker(tmp_path)
    assert check.codes(("select",), ["sg201", "SG3"]) == ("SG201", "SG3")
    with pytest.raises(ConfigError) as info:
        check.codes(("select",), ["SG201", "E501"])
    assert (info.value.key, info.value.problem) == ("tool.scopeguard.select[1]", "'E501' is not a rule code or prefix")


def test_checker_limits_defaults_and_ranges(tmp_path):
    check = checker(tmp_path)
    assert check.limits({}) == check.limits({"parse_timeout": 60.0, "parse_memory_mb": 2048, "max_file_mb": 8})
    with pytest.raises(ConfigError) as info:
        check.limits({"parse_memory_mb": 100})
    assert info.value.problem == "100 is out of range"
    with pytest.raises(ConfigError) as info:
        check.limits({"max_file_mb": 1.5})
    assert info.value.problem == "expected a whole number of MB, got a float"


def test_checker_registry_function_listed_twice_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        checker(tmp_path).registries({"lookup": ["tvm.register_func"]})
    assert info.value.problem == "'register_func' is both a register and a lookup function"


def test_checker_cli_strings_reject_a_bare_string(tmp_path):
    with pytest.raises(TypeError):
        checker(tmp_path).cli_strings("exclude", "build/**")


# --------------------------------------------------------------------------------------------
# Hints


KNOWN = {"tvm", "tvm.relax", "tvm.contrib", "tvm.contrib.msc", "tvm.contrib_mcs", "app", "app.core"}


@pytest.mark.parametrize(("name", "known", "hint"), [
    ("tvm.relax", set(), "no modules were found under the source roots; check source_roots"),
    ("tvm.contrib.mcs", KNOWN, "did you mean 'tvm.contrib.msc'?"),   # a sibling first
    ("relax", KNOWN, "did you mean 'tvm.relax'?"),                   # then a module ending so
    ("ap", KNOWN, "did you mean 'app'?"),                            # then one as deep
    ("zzz.qqq.www", KNOWN, "name a package found under the source roots"),
])
def test_module_hint(name, known, hint):
    assert _module_hint(name, known) == hint


def test_path_hint(tmp_path):
    (tmp_path / "tests" / "python").mkdir(parents=True)
    (tmp_path / "tests" / "pythons.txt").write_text("")
    root = str(tmp_path)
    assert _path_hint(root, "tests/pyhton") == "did you mean 'tests/python'?"
    assert _path_hint(root, "tests\\pyhton/") == "did you mean 'tests/python'?"
    assert _path_hint(root, "test") == "did you mean 'tests'?"
    assert _path_hint(root, "tests/pythons.tx", folders_only=True) == "did you mean 'tests/python'?"
    assert _path_hint(root, "nowhere/x") == f"name a path relative to the project root {root}"
    assert _path_hint(root, "zzz", folders_only=True) == f"name a folder relative to the project root {root}"


def test_kind():
    assert [_kind(v) for v in ("s", True, 1, 1.5, [], {}, None)] == [
        "a string", "a boolean", "an integer", "a float", "an array", "a table", "NoneType"]


def test_is_within():
    inside = os.path.join(os.sep + "p", "a")
    assert _is_within(inside, os.sep + "p") and _is_within(os.sep + "p", os.sep + "p")
    assert _is_within(inside, os.sep + "p" + os.sep)
    assert not _is_within(os.sep + "pa", os.sep + "p")


def test_close_matches():
    assert _close_matches("msc", ["mcs", "relax"], n=1, cutoff=0.6) == ["mcs"]
    assert _close_matches("zzz", ["mcs", "relax"]) == []


# --------------------------------------------------------------------------------------------
# Checks across scopes, through load_config


def test_cycle_is_named_from_its_first_declared_scope(tmp_path):
    path = write(tmp_path, """\
        [[tool.scopeguard.scopes]]
        name = "c"
        uses = ["a"]
        [[tool.scopeguard.scopes]]
        name = "a"
        uses = ["b"]
        [[tool.scopeguard.scopes]]
        name = "b"
        uses = ["c"]
        """)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problem == "scopes use each other in a cycle: c -> a -> b -> c"
    assert (info.value.key, info.value.line) == ("tool.scopeguard.scopes[0].uses[0]", 3)


def test_overlap_names_both_scopes(tmp_path):
    path = write(tmp_path, SCOPE + '[[tool.scopeguard.scopes]]\nname = "pkg.a.b"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problem == "scope 'pkg.a.b' overlaps scope 'pkg.a' (scopes[0])"


def test_sibling_prefix_is_not_an_overlap(tmp_path):
    path = write(tmp_path, SCOPE + '[[tool.scopeguard.scopes]]\nname = "pkg.ab"\n')
    assert [s.name for s in load_config(path).scopes] == ["pkg.a", "pkg.ab"]

