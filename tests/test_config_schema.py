"""config/schema.py: the keys each table of `[tool.scopeguard]` allows, the fixed choices, the
patterns of rule codes and registry names, and the shape of a key path."""

from __future__ import annotations

import dataclasses

import pytest

from scopeguard.base.model import ParseLimits, Reporting, Toggle
from scopeguard.config.schema import (
    _CODE,
    _CUTOFF,
    _REGISTRY_NAME,
    _TABLE,
    FAIL_ON,
    MAX_CONFIG_BYTES,
    REGISTRY_KEYS,
    SCOPE_KEYS,
    TOGGLE_KEYS,
    TOGGLE_OPTIONS,
    TOP_KEYS,
)


@pytest.mark.parametrize("keys", [TOP_KEYS, FAIL_ON, TOGGLE_KEYS, TOGGLE_OPTIONS, SCOPE_KEYS, REGISTRY_KEYS])
def test_every_key_list_is_a_tuple_without_repeats(keys):
    assert isinstance(keys, tuple) and len(set(keys)) == len(keys)


def test_the_keys_are_the_fields_they_fill():
    toggle_fields = {f.name for f in dataclasses.fields(Toggle)}
    assert set(TOGGLE_KEYS) | set(TOGGLE_OPTIONS) <= toggle_fields
    assert {"select", "ignore", "per_file_ignores", "require_reason", "fail_on"} <= set(TOP_KEYS)
    assert {f.name for f in dataclasses.fields(Reporting)} == {"select", "ignore", "per_file_ignores",
                                                               "require_reason", "fail_on"}
    assert Reporting().fail_on in FAIL_ON
    assert {"parse_timeout", "parse_memory_mb", "max_file_mb"} <= set(TOP_KEYS)
    assert {f.name for f in dataclasses.fields(ParseLimits)} == {"timeout", "memory_mb", "max_file_mb", "timeout_from",
                                                                 "memory_from", "max_file_from"}


def test_the_table_and_the_limits():
    assert _TABLE == ("tool", "scopeguard")
    assert MAX_CONFIG_BYTES == 16 * 1024 * 1024
    assert 0 < _CUTOFF < 1


@pytest.mark.parametrize("code", ["SG1", "SG20", "SG201", "SG999"])
def test_rule_codes_and_prefixes_match(code):
    assert _CODE.fullmatch(code)


@pytest.mark.parametrize("code", ["SG", "SG1234", "sg201", "XX201", "SG2a", " SG201"])
def test_other_codes_do_not_match(code):
    assert not _CODE.fullmatch(code)


@pytest.mark.parametrize("name", ["relax.", "contrib.cutlass.", "tvm.contrib.nnpack", "get_global_func", "_init_api"])
def test_registry_names_and_prefixes_match(name):
    assert _REGISTRY_NAME.fullmatch(name)


@pytest.mark.parametrize("name", ["", ".", "1abc", "a..b", "a.1b", "tvm/relax", "relax..", "a b"])
def test_other_registry_names_do_not_match(name):
    assert not _REGISTRY_NAME.fullmatch(name)
