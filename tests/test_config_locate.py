"""config/locate.py: where a key is in the TOML text. Direct tests of the dotted spelling of key
paths, the TOML key parser, the top-level line lexer, the _Locator and the position of a TOML
syntax error; then the same through load_config."""

from __future__ import annotations

import sys

import pytest

from scopeguard.base.model import Scope, Toggle
from scopeguard.config import load_config
from scopeguard.config.locate import _decode_error_position, _dotted, _key_part, _Locator, _parse_key, _top_level_lines

from .test_config import write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


# --------------------------------------------------------------------------------------------
# Dotted key paths


@pytest.mark.parametrize(("parts", "dotted"), [
    ((), "tool.scopeguard"),
    (("exclude",), "tool.scopeguard.exclude"),
    (("scopes", 1, "toggle"), "tool.scopeguard.scopes[1].toggle"),
    (("scopes", 0, "allow", 2), "tool.scopeguard.scopes[0].allow[2]"),
    (("toggles", "my msc"), 'tool.scopeguard.toggles."my msc"'),
    (("toggles", "café"), 'tool.scopeguard.toggles."café"'),
    (("per_file_ignores", "tests/**"), 'tool.scopeguard.per_file_ignores."tests/**"'),
])
def test_dotted(parts, dotted):
    assert _dotted(parts) == dotted


def test_key_part_quotes_only_what_is_not_bare():
    assert _key_part("on_when-true_2") == "on_when-true_2"
    assert _key_part("a.b") == '"a.b"'
    assert _key_part('say "hi"') == '"say \\"hi\\""'


# --------------------------------------------------------------------------------------------
# TOML keys and top-level lines


@pytest.mark.parametrize(("text", "parts"), [
    ("tool.scopeguard", ("tool", "scopeguard")),
    ('a."b.c".d', ("a", "b.c", "d")),
    (" tool . 'x y' ", ("tool", "x y")),
    ('"\\u00e9"', ("é",)),
    ('"bad\\q"', ("bad\\q",)),  # not a JSON escape: kept as written
    ("", None),
    ("a.", None),
    ("a b", None),
    ("a.=", None),
])
def test_parse_key(text, parts):
    assert _parse_key(text) == parts


def test_top_level_lines_skip_multi_line_strings_and_arrays():
    lines = [
        'a = """',   # opens a multi-line string
        "[x]",        # inside it
        '"""',        # closes it: starts inside
        "b = [",      # opens an array
        ' "[y]", # ]',  # a bracket in a string and in a comment
        "]",          # closes it: starts inside
        "c = '[' # [",  # brackets in a literal string and a comment do not open anything
        "[z]",
    ]
    assert _top_level_lines(lines) == [True, False, False, True, False, False, True, True]


def test_top_level_lines_of_nested_inline_tables():
    assert _top_level_lines(["t = { a = [1,", "  2] }", "k = 1"]) == [True, False, True]


# --------------------------------------------------------------------------------------------
# _Locator


TEXT = """\
[project]
name = "x"

[tool.scopeguard]
source_roots = ["src"]
exclude = [
    "a/**",
    "b/**",
]

[tool.scopeguard.toggles.msc]
on_when_true = ["USE_MSC"]

[[tool.scopeguard.scopes]]
name = "pkg.a"

[[tool.scopeguard.scopes]]
name = "pkg.b"
"my key" = 1
"""


@pytest.mark.parametrize(("parts", "value", "line"), [
    ((), None, 4),                                       # the table's header
    (("source_roots",), None, 5),
    (("exclude", 1), "b/**", 8),                          # the line holding the value
    (("exclude", 1), "c/**", 6),                          # a value not found: the key's line
    (("toggles", "msc"), None, 11),
    (("toggles", "msc", "on_when_true"), None, 12),
    (("toggles", "msc", "decorators"), None, 11),         # a key not written: its table
    (("scopes", 0, "name"), None, 15),
    (("scopes", 1, "name"), None, 18),
    (("scopes", 1, "my key"), None, 19),                 # a quoted key
    (("scopes", 2, "name"), None, 4),                     # no third [[...]]: up to the parent table
    (("registries", "lookup"), None, 4),
])
def test_locator_line_of(parts, value, line):
    assert _Locator(TEXT).line_of(parts, value) == line


def test_locator_without_a_header_falls_back_to_the_dotted_root_key():
    # No [tool.scopeguard] header: the dotted key `tool.scopeguard.exclude` is found by its first part.
    locator = _Locator('[project]\nname = "x"\n')
    assert locator.line_of(("exclude",)) == 0
    assert _Locator('# c\ntool.scopeguard.exclude = ["x"]\n').line_of(("exclude",)) == 2
    assert _Locator("").line_of(("exclude",)) == 0


def test_locator_ignores_headers_inside_values():
    text = "[tool.other]\nt = '''\n[tool.scopeguard]\n'''\n[tool.scopeguard]\nexclude = []\n"
    locator = _Locator(text)
    assert [h[2] for h in locator.headers] == [0, 4]
    assert locator.line_of(("exclude",)) == 6


# --------------------------------------------------------------------------------------------
# TOML syntax errors


def _decode_error(text: str) -> Exception:
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    return info.value


def test_decode_error_position_splits_off_the_line():
    text = "a = 1\nb = \n"
    assert _decode_error_position(_decode_error(text), text) == (2, "Invalid value")


def test_decode_error_at_end_of_document_is_the_last_line():
    text = '[t]\nk = "v'
    assert _decode_error_position(_decode_error(text), text) == (2, "Unterminated string")


def test_decode_error_without_a_position():
    assert _decode_error_position(ValueError("plain"), "a\nb\n") == (0, "plain")


# --------------------------------------------------------------------------------------------
# Through load_config


def test_inline_tables_parse_and_locate_loosely(tmp_path):
    path = write(tmp_path, """\
        [tool.scopeguard]
        toggles = { msc = { on_when_true = ["USE_MSC"] } }
        scopes = [
            { name = "pkg.msc", toggle = "msc" },
        ]
        """)
    config = load_config(path)
    assert config.toggles == (Toggle(name="msc", on_when_true=("USE_MSC",)),)
    # No [[...]] header holds the scope: its line falls back to the `scopes =` key.
    assert config.scopes == (Scope(name="pkg.msc", toggle="msc", line=3),)



def test_header_like_text_inside_values_does_not_move_lines(tmp_path):
    path = write(tmp_path, """\
        [tool.other]
        matrix = [
            ["a"]
        ]
        text = '''
        [[tool.scopeguard.scopes]]
        '''
        [[tool.scopeguard.scopes]]
        name = "pkg.a"
        """)
    assert load_config(path).scopes[0].line == 9

