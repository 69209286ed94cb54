"""The adversarial case tables of issue 14, one module per family. Each case is the code of
pkg/user.py (plus files it needs) and what Python does with it while the toggle is off; the
expected scopeguard answer is derived by tests/oracle/harness.py from running it."""

from __future__ import annotations

from . import bindings, control_flow, decorators, dynamic, handlers, import_time, objects, off_states, suppressions

FAMILIES = (off_states, bindings, control_flow, handlers, dynamic, import_time, decorators, suppressions, objects)
ALL = [case for family in FAMILIES for case in family.CASES]
