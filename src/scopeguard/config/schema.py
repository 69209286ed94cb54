"""The shape of `[tool.scopeguard]`: the keys each table allows, the values with a fixed set of
choices, the patterns names must match, and how a key path below the table is written down."""

from __future__ import annotations

import re
from typing import Union

# No configuration is this large; a larger "pyproject.toml" is not one (or is an attack).
MAX_CONFIG_BYTES = 16 * 1024 * 1024

TOP_KEYS = ("source_roots", "extra_roots", "exclude", "toggles", "scopes", "registries",
            "parse_timeout", "parse_memory_mb", "max_file_mb",
            "select", "ignore", "per_file_ignores", "require_reason", "fail_on", "dynamic_imports")
FAIL_ON = ("error", "warning", "never")
# The parse limits: (key in the table, ParseLimits field, lowest value, unit, command-line option,
# environment variable). The table may only lower the user's ceilings (validate._Checker.limits).
LIMITS = (("parse_timeout", "timeout", 1, "seconds", "--parse-timeout", "SCOPEGUARD_PARSE_TIMEOUT"),
          ("parse_memory_mb", "memory_mb", 256, "MB", "--parse-memory-mb", "SCOPEGUARD_PARSE_MEMORY_MB"),
          ("max_file_mb", "max_file_mb", 1, "MB", "--max-file-mb", "SCOPEGUARD_MAX_FILE_MB"))
LIMIT_KEYS = tuple(item[:4] for item in LIMITS)
LIMIT_MAX = 1_000_000
_CODE = re.compile(r"SG[0-9]{1,3}")
TOGGLE_KEYS = ("on_when_true", "on_when_false", "decorators")
TOGGLE_OPTIONS = ("off_values",)
SCOPE_KEYS = ("name", "toggle", "allow", "uses", "extra_paths", "ffi_prefixes")
REGISTRY_KEYS = ("register", "lookup", "init_api")
DYNAMIC_IMPORT_KEYS = ("path", "function", "call", "loads", "reason")
# A registry name or prefix as TVM spells them: "relax.", "contrib.cutlass.", "tvm.contrib.nnpack".
_REGISTRY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\.?")

_TABLE = ("tool", "scopeguard")
_CUTOFF = 0.6

# A key path below [tool.scopeguard]: table keys are str, array indexes are int.
Part = Union[str, int]
KeyPath = tuple[Part, ...]
