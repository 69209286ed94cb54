"""config/load.py and the package's re-exports: find_config, load_config, default_config and
validate_modules, the only reader of TOML; every mistake is a located ConfigError.

MALFORMED, the row-by-row matrix of mistakes (exact key, line and near miss), lives here and is run
through the command line by test_config_errors.py. The parts have their own files:
test_config_schema.py, test_config_errors.py (the error type), test_config_locate.py and
test_config_validate.py.
"""

from __future__ import annotations

import difflib
import textwrap
from pathlib import Path

import pytest

import scopeguard.config
from scopeguard.config import (
    ConfigError,
    default_config,
    find_config,
    load_config,
    validate_modules,
)
from scopeguard.config import errors, load, schema
from scopeguard.base.model import Config, Scope, Toggle

DESIGN_SKETCH = """\
[project]
name = "tvm"

[tool.scopeguard]
source_roots = ["python"]          # default: auto-detect src/ or .
extra_roots  = ["tests/python"]    # scanned as importers, never as scope owners
exclude      = ["**/_build/**"]

[tool.scopeguard.toggles.relax]
on_when_false = ["_RUNTIME_ONLY", "TVM_USE_RUNTIME_LIB"]

[tool.scopeguard.toggles.msc]
on_when_true = ["USE_MSC", "TVM_USE_MSC"]
decorators   = ["tvm.testing.requires_msc"]

[[tool.scopeguard.scopes]]
name    = "tvm.relax"
toggle  = "relax"
allow   = ["tvm.script.parser.relax"]   # approved integration points (S1 decisions)
uses    = []                           # other scopes it may import
extra_paths = ["tests/python/relax"]   # deleted together with the scope

[[tool.scopeguard.scopes]]
name = "tvm.contrib.msc"
toggle = "msc"
uses = [
    "tvm.relax",
]
"""


def write(root: Path, text: str, dirs: tuple[str, ...] = ("src",)) -> Path:
    for folder in dirs:
        (root / folder).mkdir(parents=True, exist_ok=True)
    path = root / "pyproject.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# The package re-exports what callers import from scopeguard.config


def test_the_package_re_exports_the_parts_names():
    assert scopeguard.config.load_config is load.load_config
    assert scopeguard.config.find_config is load.find_config
    assert scopeguard.config.default_config is load.default_config
    assert scopeguard.config.validate_modules is load.validate_modules
    assert scopeguard.config.tomllib is load.tomllib
    assert scopeguard.config.ConfigError is errors.ConfigError
    assert scopeguard.config.ConfigErrors is errors.ConfigErrors
    assert scopeguard.config.MAX_CONFIG_BYTES is schema.MAX_CONFIG_BYTES
    assert scopeguard.config.TOP_KEYS is schema.TOP_KEYS
    assert sorted(scopeguard.config.__all__) == sorted(set(scopeguard.config.__all__))
    assert all(hasattr(scopeguard.config, name) for name in scopeguard.config.__all__)


# --------------------------------------------------------------------------------------------
# Happy path


def test_design_sketch_parses_to_exact_config(tmp_path):
    path = write(tmp_path, DESIGN_SKETCH, dirs=("python/tvm", "tests/python/relax"))
    config = load_config(path)
    assert config == Config(
        root=str(tmp_path),
        config_path=str(path),
        source_roots=("python",),
        extra_roots=("tests/python",),
        exclude=("**/_build/**",),
        toggles=(
            Toggle(name="relax", on_when_false=("_RUNTIME_ONLY", "TVM_USE_RUNTIME_LIB")),
            Toggle(name="msc", on_when_true=("USE_MSC", "TVM_USE_MSC"),
                   decorators=("tvm.testing.requires_msc",)),
        ),
        scopes=(
            Scope(
                name="tvm.relax",
                toggle="relax",
                allow=("tvm.script.parser.relax",),
                uses=(),
                extra_paths=("tests/python/relax",),
                line=17,
            ),
            Scope(name="tvm.contrib.msc", toggle="msc", uses=("tvm.relax",), line=24),
        ),
    )


def test_relative_path_gives_absolute_root(tmp_path, monkeypatch):
    write(tmp_path, "[tool.scopeguard]\n")
    monkeypatch.chdir(tmp_path)
    config = load_config("pyproject.toml")
    assert config.root == str(tmp_path)
    assert config.config_path == str(tmp_path / "pyproject.toml")


def test_scope_without_toggle_and_empty_table(tmp_path):
    path = write(tmp_path, """\
        [tool.scopeguard]

        [[tool.scopeguard.scopes]]
        name = "pkg.feature"
        """)
    assert load_config(path).scopes == (Scope(name="pkg.feature", line=4),)


def test_default_source_root_is_src_when_present(tmp_path):
    path = write(tmp_path, "[tool.scopeguard]\n", dirs=("src",))
    assert load_config(path).source_roots == ("src",)


def test_default_source_root_is_dot_without_src(tmp_path):
    path = write(tmp_path, "[tool.scopeguard]\n", dirs=())
    assert load_config(path).source_roots == (".",)


def test_cli_overrides_replace_file_values(tmp_path):
    path = write(tmp_path, """\
        [tool.scopeguard]
        source_roots = ["python"]
        extra_roots = ["tests"]
        exclude = ["a/**"]
        """, dirs=("python", "tests", "lib", "more"))
    config = load_config(path, source_roots=["lib"], extra_roots=["more", "tests"], exclude=[])
    assert (config.source_roots, config.extra_roots, config.exclude) == (("lib",), ("more", "tests"), ())


def test_cli_override_of_missing_folder_has_no_line(tmp_path):
    path = write(tmp_path, "[tool.scopeguard]\n", dirs=("python",))
    with pytest.raises(ConfigError) as info:
        load_config(path, source_roots=["pyhton"])
    err = info.value
    assert (err.key, err.line) == ("tool.scopeguard.source_roots[0]", 0)
    assert err.problem == "'pyhton' does not exist (given on the command line)"
    assert err.hint == "did you mean 'python'?"


def test_cli_override_as_bare_string_is_a_caller_bug(tmp_path):
    path = write(tmp_path, "[tool.scopeguard]\n")
    with pytest.raises(TypeError):
        load_config(path, source_roots="src")


def test_file_values_are_checked_even_when_overridden(tmp_path):
    path = write(tmp_path, '[tool.scopeguard]\nsource_roots = "python"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, source_roots=["src"])
    assert info.value.key == "tool.scopeguard.source_roots"


# --------------------------------------------------------------------------------------------
# default_config


def test_default_config_has_no_toggles_or_scopes_and_no_file(tmp_path):
    (tmp_path / "src").mkdir()
    config = default_config(tmp_path)
    assert config == Config(root=str(tmp_path), config_path="", source_roots=("src",))
    assert (config.toggles, config.scopes) == ((), ())


def test_default_config_relative_root_and_overrides(tmp_path, monkeypatch):
    (tmp_path / "lib").mkdir()
    (tmp_path / "tests").mkdir()
    monkeypatch.chdir(tmp_path)
    config = default_config(".", source_roots=["lib"], extra_roots=["tests"], exclude=["build/**"])
    assert (config.root, config.source_roots, config.extra_roots, config.exclude) == (
        str(tmp_path), ("lib",), ("tests",), ("build/**",))


def test_default_config_checks_the_overrides_and_names_the_root(tmp_path):
    (tmp_path / "python").mkdir()
    with pytest.raises(ConfigError) as info:
        default_config(tmp_path, source_roots=["pyhton"])
    err = info.value
    assert (err.path, err.line, err.key) == (str(tmp_path), 0, "tool.scopeguard.source_roots[0]")
    assert err.problem == "'pyhton' does not exist (given on the command line)"
    assert err.hint == "did you mean 'python'?"


# --------------------------------------------------------------------------------------------
# find_config


def test_find_config_walks_up_past_unrelated_and_broken_files(tmp_path):
    (tmp_path / "a" / "b" / "c" / "d").mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text("[tool.scopeguard]\n")
    (tmp_path / "a" / "b" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "a" / "b" / "c" / "pyproject.toml").write_text("[tool.scopeguard\n")
    assert find_config(tmp_path / "a" / "b" / "c" / "d") == tmp_path / "a" / "pyproject.toml"
    assert find_config(tmp_path / "a") == tmp_path / "a" / "pyproject.toml"


def test_find_config_returns_the_nearest(tmp_path):
    (tmp_path / "inner").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.scopeguard]\n")
    (tmp_path / "inner" / "pyproject.toml").write_text("[tool.scopeguard]\nexclude = []\n")
    assert find_config(tmp_path / "inner") == tmp_path / "inner" / "pyproject.toml"


def test_find_config_none_when_no_table_anywhere(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.black]\n")
    above = [p for p in tmp_path.parents if (p / "pyproject.toml").is_file()]
    if above:
        pytest.skip(f"a pyproject.toml above the test folder: {above[0]}")
    assert find_config(tmp_path) is None


# --------------------------------------------------------------------------------------------
# Malformed configurations: one row each, with the exact key, line and near miss.

SCOPE = '[[tool.scopeguard.scopes]]\nname = "pkg.a"\n'

MALFORMED = [
    # id, file text, folders to create, key, line, text expected in the hint (None: no check)
    ("invalid-toml", '[tool.scopeguard]\nsource_roots = "src\n', (),
     "toml", 2, None),
    ("invalid-toml-at-end", '[tool.scopeguard]\nsource_roots = ["src"\n', (),
     "toml", 2, None),
    ("no-table", "[tool.black]\nline-length = 100\n", (),
     "tool.scopeguard", 0, "add one"),
    ("table-not-a-table", "[tool]\nscopeguard = 3\n", (),
     "tool.scopeguard", 2, "[tool.scopeguard] table"),
    ("unknown-top-key", '[tool.scopeguard]\nsource_root = ["src"]\n', (),
     "tool.scopeguard.source_root", 2, "did you mean 'source_roots'?"),
    ("unknown-top-key-far", "[tool.scopeguard]\ncolour = 1\n", (),
     "tool.scopeguard.colour", 2, "expected one of: source_roots, extra_roots, exclude, toggles, scopes"),
    ("unknown-toggle-key", '[tool.scopeguard.toggles.msc]\non_when_ture = ["USE_MSC"]\n', (),
     "tool.scopeguard.toggles.msc.on_when_ture", 2, "did you mean 'on_when_true'?"),
    ("unknown-key-in-inline-toggles",
     '[tool.scopeguard]\nexclude = []\ntoggles = { msc = { on_when_tru = ["X"] } }\n', (),
     "tool.scopeguard.toggles.msc.on_when_tru", 3, "did you mean 'on_when_true'?"),
    ("unknown-scope-key", SCOPE + '[[tool.scopeguard.scopes]]\nname = "pkg.b"\n\nalow = ["pkg.c"]\n', (),
     "tool.scopeguard.scopes[1].alow", 6, "did you mean 'allow'?"),
    ("source-roots-not-a-list", '[tool.scopeguard]\nsource_roots = "src"\n', (),
     "tool.scopeguard.source_roots", 2, None),
    ("exclude-item-not-a-string", '[tool.scopeguard]\nexclude = [\n  "a",\n  3,\n]\n', (),
     "tool.scopeguard.exclude[1]", 2, None),
    ("empty-string-in-allow", '[[tool.scopeguard.scopes]]\nname = "pkg.a"\nallow = ["pkg.b", " "]\n', (),
     "tool.scopeguard.scopes[0].allow[1]", 3, None),
    ("scopes-single-brackets", '[tool.scopeguard.scopes]\nname = "pkg.a"\n', (),
     "tool.scopeguard.scopes", 1, "two brackets"),
    ("scope-not-a-table", '[tool.scopeguard]\nscopes = ["pkg.a"]\n', (),
     "tool.scopeguard.scopes[0]", 2, None),
    ("toggles-not-a-table", '[tool.scopeguard]\ntoggles = ["msc"]\n', (),
     "tool.scopeguard.toggles", 2, "[tool.scopeguard.toggles.NAME]"),
    ("toggle-not-a-table",
     '[tool.scopeguard.toggles]\nrelax = { on_when_true = ["X"] }\nmsc = ["USE_MSC"]\n', (),
     "tool.scopeguard.toggles.msc", 3, "[tool.scopeguard.toggles.msc]"),
    ("toggle-without-spelling", '[tool.scopeguard.toggles.msc]\ndecorators = []\n', (),
     "tool.scopeguard.toggles.msc", 1, "add on_when_true, on_when_false or decorators"),
    ("toggle-empty-table", '[tool.scopeguard]\n\n[tool.scopeguard.toggles."my msc"]\n', (),
     'tool.scopeguard.toggles."my msc"', 3, None),
    ("toggle-reserved-name", '[tool.scopeguard.toggles.TYPE_CHECKING]\non_when_true = ["X"]\n', (),
     "tool.scopeguard.toggles.TYPE_CHECKING", 1, "pick another name"),
    ("toggle-both-polarities",
     '[tool.scopeguard.toggles.msc]\non_when_true = ["USE_MSC"]\non_when_false = [\n  "X",\n  "USE_MSC",\n]\n', (),
     "tool.scopeguard.toggles.msc.on_when_false", 5, None),
    ("scope-missing-name", '[tool.scopeguard]\n\n[[tool.scopeguard.scopes]]\ntoggle = "msc"\n', (),
     "tool.scopeguard.scopes[0]", 3, 'name = "pkg.feature"'),
    ("scope-name-empty", '[[tool.scopeguard.scopes]]\nname = ""\n', (),
     "tool.scopeguard.scopes[0].name", 2, None),
    ("scope-name-not-a-string", '[[tool.scopeguard.scopes]]\nname = ["pkg"]\n', (),
     "tool.scopeguard.scopes[0].name", 2, None),
    ("scope-name-with-slashes", '[[tool.scopeguard.scopes]]\nname = "tvm/relax/"\n', (),
     "tool.scopeguard.scopes[0].name", 2, "did you mean 'tvm.relax'?"),
    ("scope-name-not-identifier", '[[tool.scopeguard.scopes]]\nname = "tvm..relax"\n', (),
     "tool.scopeguard.scopes[0].name", 2, "write a dotted module name"),
    ("allow-not-dotted", SCOPE + 'allow = ["tvm/script"]\n', (),
     "tool.scopeguard.scopes[0].allow[0]", 3, "did you mean 'tvm.script'?"),
    ("duplicate-scope", SCOPE + "\n" + SCOPE, (),
     "tool.scopeguard.scopes[1].name", 5, "first declared as scopes[0] (line 2)"),
    ("overlapping-scope-inner-later", SCOPE + '[[tool.scopeguard.scopes]]\nname = "pkg.a.b"\n', (),
     "tool.scopeguard.scopes[1].name", 4, "merge the two or drop one"),
    ("overlapping-scope-outer-later", '[[tool.scopeguard.scopes]]\nname = "pkg.a.b"\n' + SCOPE, (),
     "tool.scopeguard.scopes[1].name", 4, None),
    ("undefined-toggle-near",
     '[tool.scopeguard.toggles.msc]\non_when_true = ["USE_MSC"]\n\n' + SCOPE + 'toggle = "mcs"\n', (),
     "tool.scopeguard.scopes[0].toggle", 6, "did you mean 'msc'?"),
    ("undefined-toggle-far",
     '[tool.scopeguard.toggles.msc]\non_when_true = ["USE_MSC"]\n' + SCOPE + 'toggle = "relax"\n', (),
     "tool.scopeguard.scopes[0].toggle", 5, "defined toggles: msc"),
    ("undefined-toggle-none-defined", SCOPE + 'toggle = "msc"\n', (),
     "tool.scopeguard.scopes[0].toggle", 3, "define it in a [tool.scopeguard.toggles.msc] table"),
    ("toggle-not-a-string", SCOPE + "toggle = 1\n", (),
     "tool.scopeguard.scopes[0].toggle", 3, None),
    ("uses-undeclared",
     '[[tool.scopeguard.scopes]]\nname = "tvm.relax"\n' + SCOPE + 'uses = [\n  "tvm.relax",\n  "tvm.relx",\n]\n', (),
     "tool.scopeguard.scopes[1].uses[1]", 7, "did you mean 'tvm.relax'?"),
    ("uses-itself", SCOPE + 'uses = ["pkg.a"]\n', (),
     "tool.scopeguard.scopes[0].uses[0]", 3, None),
    ("uses-cycle",
     '[[tool.scopeguard.scopes]]\nname = "x"\n'
     '[[tool.scopeguard.scopes]]\nname = "a"\nuses = ["x", "b"]\n'
     '[[tool.scopeguard.scopes]]\nname = "b"\nuses = ["a"]\n', (),
     "tool.scopeguard.scopes[1].uses[1]", 5, None),
    ("source-root-missing", '[tool.scopeguard]\nsource_roots = ["src", "pyhton"]\n', ("python",),
     "tool.scopeguard.source_roots[1]", 2, "did you mean 'python'?"),
    ("source-root-is-a-file", '[tool.scopeguard]\nsource_roots = ["pyproject.toml"]\n', (),
     "tool.scopeguard.source_roots[0]", 2, None),
    ("source-roots-empty", '[tool.scopeguard]\nsource_roots = []\n', (),
     "tool.scopeguard.source_roots", 2, "the default is ['src']"),
    ("extra-root-missing", '[tool.scopeguard]\nextra_roots = [\n  "tests/pyhton",\n]\n', ("tests/python",),
     "tool.scopeguard.extra_roots[0]", 3, "did you mean 'tests/python'?"),
]


@pytest.mark.parametrize(("text", "dirs", "key", "line", "hint"),
                         [row[1:] for row in MALFORMED], ids=[row[0] for row in MALFORMED])
def test_malformed_config(tmp_path, text, dirs, key, line, hint):
    path = write(tmp_path, text, dirs=("src", *dirs))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert (err.path, err.key, err.line) == (str(path), key, line), str(err)
    if hint is not None:
        assert hint in err.hint, str(err)


def test_invalid_toml_problem_drops_the_position(tmp_path):
    path = write(tmp_path, '[tool.scopeguard]\nsource_roots = "src\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problem == "invalid TOML: Illegal character '\\n'"
    assert str(info.value) == f"{path}:2: toml: invalid TOML: Illegal character '\\n'"


# --------------------------------------------------------------------------------------------
# validate_modules


MODULES = frozenset({
    "tvm", "tvm.relax", "tvm.relax.frontend", "tvm.contrib", "tvm.contrib.msc", "tvm.contrib.msc.core",
    "tvm.script.parser.relax",
})


def scoped(tmp_path: Path, body: str) -> Config:
    path = write(tmp_path, "[tool.scopeguard]\nsource_roots = ['python']\n\n" + textwrap.dedent(body),
                 dirs=("python", "tests/python/relax"))
    return load_config(path)


def test_validate_modules_accepts_existing_names(tmp_path):
    config = scoped(tmp_path, """\
        [[tool.scopeguard.scopes]]
        name = "tvm.relax"
        allow = ["tvm.script.parser.relax", "tvm.script"]
        extra_paths = ["tests/python/relax", "pyproject.toml"]
        """)
    # tvm.script exists only as a parent of a discovered module: a namespace package.
    assert validate_modules(config, MODULES - {"tvm"}) is None


def test_validate_modules_scope_name_near_miss(tmp_path):
    config = scoped(tmp_path, """\
        [[tool.scopeguard.scopes]]
        name = "tvm.relax"

        [[tool.scopeguard.scopes]]
        name = "tvm.contrib.mcs"
        """)
    with pytest.raises(ConfigError) as info:
        validate_modules(config, MODULES)
    err = info.value
    assert (err.key, err.line) == ("tool.scopeguard.scopes[1].name", 8)
    assert err.problem == "scope 'tvm.contrib.mcs' names no module or package"
    assert err.hint == "did you mean 'tvm.contrib.msc'?"


def test_validate_modules_prefers_siblings(tmp_path):
    config = scoped(tmp_path, '[[tool.scopeguard.scopes]]\nname = "tvm.contrib.mcs"\n')
    modules = {"tvm.contrib.msc", "tvm.contrib_mcs"}
    # Over all names difflib ranks 'tvm.contrib_mcs' first (a tie broken by sort order), but the
    # sibling is the likelier typo.
    everything = ["tvm", "tvm.contrib", *sorted(modules)]
    assert difflib.get_close_matches("tvm.contrib.mcs", everything, n=1) == ["tvm.contrib_mcs"]
    with pytest.raises(ConfigError) as info:
        validate_modules(config, modules)
    assert info.value.hint == "did you mean 'tvm.contrib.msc'?"


def test_validate_modules_bare_leaf_suggests_full_name(tmp_path):
    config = scoped(tmp_path, '[[tool.scopeguard.scopes]]\nname = "relax"\n')
    with pytest.raises(ConfigError) as info:
        validate_modules(config, MODULES)
    assert info.value.hint == "did you mean 'tvm.relax'?"


def test_validate_modules_nothing_discovered(tmp_path):
    config = scoped(tmp_path, '[[tool.scopeguard.scopes]]\nname = "tvm.relax"\n')
    with pytest.raises(ConfigError) as info:
        validate_modules(config, set())
    assert info.value.hint == "no modules were found under the source roots; check source_roots"


def test_validate_modules_allow_entry(tmp_path):
    config = scoped(tmp_path, """\
        [[tool.scopeguard.scopes]]
        name = "tvm.relax"
        allow = [
            "tvm.script.parser.relax",
            "tvm.script.parser.relx",
        ]
        """)
    with pytest.raises(ConfigError) as info:
        validate_modules(config, MODULES)
    err = info.value
    assert (err.key, err.line) == ("tool.scopeguard.scopes[0].allow[1]", 8)
    assert err.hint == "did you mean 'tvm.script.parser.relax'?"


def test_validate_modules_extra_path(tmp_path):
    config = scoped(tmp_path, """\
        [[tool.scopeguard.scopes]]
        name = "tvm.relax"
        extra_paths = ["tests/python/relx"]
        """)
    with pytest.raises(ConfigError) as info:
        validate_modules(config, MODULES)
    err = info.value
    assert (err.key, err.line) == ("tool.scopeguard.scopes[0].extra_paths[0]", 6)
    assert err.problem == "'tests/python/relx' does not exist"
    assert err.hint == "did you mean 'tests/python/relax'?"


def test_validate_modules_without_file_text(tmp_path):
    config = Config(root=str(tmp_path), config_path="", source_roots=(".",),
                    scopes=(Scope(name="pkg.gone", allow=("pkg.x",)),))
    with pytest.raises(ConfigError) as info:
        validate_modules(config, {"pkg.x"})
    # Without a file the error points at the project root.
    assert str(info.value) == (
        f"{tmp_path}: tool.scopeguard.scopes[0].name: scope 'pkg.gone' names no module or package;"
        " did you mean 'pkg.x'?"
    )
