"""Today's wrong answers of scopeguard on the oracle's cases, so the suite stays green while the numbers
stay visible. tests/test_guard_oracle.py marks each as xfail(strict=True) with the exception of its
kind (UNDER: unsound, OVER: noisy): a fix flips the case to XPASS, which fails until its line here
is removed; a case that turns from UNDER to OVER (or back) fails too. Regenerate after a change with
`.venv/bin/python -m tests.oracle.report --known`."""

from __future__ import annotations

KNOWN = {
    "off-states-env-get-truthy": "UNDER",
    "off-states-getenv-default-off": "UNDER",
    "off-states-env-get-default-0": "UNDER",
    "off-states-env-ne-0-default-0": "UNDER",
    "off-states-env-not-in-0-off-unset": "UNDER",
    "off-states-env-not-in-0-off-default": "UNDER",
    "off-states-env-is-not-none": "UNDER",
    "off-states-env-bool-getenv": "UNDER",
    "off-states-env-not-else": "UNDER",
    "off-states-info-ne-0": "UNDER",
    "off-states-info-get-truthy": "UNDER",
    "off-states-info-ne-off": "UNDER",
    "off-states-info-not-in-off-0": "UNDER",
    "off-states-py-is-not-none": "UNDER",
    "off-states-py-ne-off-string": "UNDER",
    "off-states-py-is-not-false": "UNDER",
    "off-states-py-ne-0": "UNDER",
    "off-states-py-str-truthy": "UNDER",
    "off-states-py-not-in-false": "UNDER",
    "bindings-parameter-default": "UNDER",
    "bindings-parameter-passed-off-negated": "UNDER",
    "bindings-local-variable": "UNDER",
    "bindings-loop-variable": "UNDER",
    "bindings-with-as": "UNDER",
    "bindings-global-rebinding": "UNDER",
    "bindings-global-statement-rebinding": "UNDER",
    "bindings-del-and-reimport": "UNDER",
    "bindings-import-as-toggle-name": "UNDER",
    "bindings-class-attribute": "UNDER",
    "bindings-dict-key": "UNDER",
    "bindings-own-type-checking": "UNDER",
    "bindings-typing-type-checking-set": "UNDER",
    "bindings-own-sys-module": "UNDER",
    "bindings-import-alias": "OVER",
    "bindings-getattr-literal": "OVER",
    "bindings-getattr-default": "OVER",
    "bindings-walrus-in-test": "OVER",
    "bindings-walrus-then-name": "OVER",
    "bindings-assigned-alias": "OVER",
    "bindings-negation-alias": "OVER",
    "bindings-type-checking-as-tc": "OVER",
    # guardb: an opaque exec/import_module(name) gets SG208, but delete-plan's reference list
    # (core/deletion.py) skips targets with no literal start, so the plan still says clean.
    "dynamic-exec-non-literal": "UNDER",
    # guardb: SG205 (rules/disruption.py) fires for a dynamic import inside a lambda body too; the
    # fact is right (Execution.CALL), the rule treats every dynamic import as import-time.
    "import-time-lambda-body": "OVER",
    "decorators-toggle-decorator-alias": "OVER",
    "decorators-toggle-decorator-assigned": "OVER",
    "decorators-local-decorator-same-name": "UNDER",
    "decorators-unittest-skip-unless": "OVER",
    "decorators-unittest-skip-if-not": "OVER",
    "decorators-unittest-skip-unless-assigned": "OVER",
    "decorators-skipif-condition-keyword": "OVER",
    "decorators-skipif-env-is-none": "UNDER",
    "suppressions-string-on-import-line": "UNDER",
    "suppressions-string-with-code": "UNDER",
    "suppressions-fstring-on-import-line": "UNDER",
    "suppressions-bytes-on-import-line": "UNDER",
    "suppressions-triple-quoted-end-line": "UNDER",
}
