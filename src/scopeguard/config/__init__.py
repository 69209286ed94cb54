"""Find and validate the `[tool.scopeguard]` table of a pyproject.toml; the only reader of TOML.

The table is checked strictly: a typo silently ignored would switch a check off, so every unknown
key, wrong type or dangling name is a ConfigError that says where (file, line, dotted key), what is
wrong and, when one is near, the spelling that was probably meant.

Checking happens in two steps. `load_config` checks everything the file alone can tell;
`validate_modules` runs after discovery and checks the names that must match the code.

The package is split by job: `schema` (the keys and their allowed values), `errors` (ConfigError),
`locate` (the line of a key in the TOML text), `validate` (the checks and their hints) and `load`
(finding, reading and checking a file). This module re-exports the names callers use.
"""

from __future__ import annotations

from .errors import ConfigError, ConfigErrors
from .load import (
    ConfigChange,
    config_changes,
    config_from_bytes,
    linked_outside,
    TomlProblem,
    default_config,
    find_config,
    load_config,
    loads_toml,
    tomllib,
    user_ceilings,
    validate_modules,
)
from .schema import (
    FAIL_ON,
    LIMITS,
    MAX_CONFIG_BYTES,
    REGISTRY_KEYS,
    SCOPE_KEYS,
    TOGGLE_KEYS,
    TOGGLE_OPTIONS,
    TOP_KEYS,
    KeyPath,
    Part,
)

__all__ = [
    "ConfigChange",
    "config_changes",
    "config_from_bytes",
    "linked_outside",
    "FAIL_ON",
    "LIMITS",
    "MAX_CONFIG_BYTES",
    "REGISTRY_KEYS",
    "SCOPE_KEYS",
    "TOGGLE_KEYS",
    "TOGGLE_OPTIONS",
    "TOP_KEYS",
    "ConfigError",
    "ConfigErrors",
    "KeyPath",
    "Part",
    "TomlProblem",
    "default_config",
    "find_config",
    "load_config",
    "loads_toml",
    "tomllib",
    "user_ceilings",
    "validate_modules",
]
