"""A dynamic import in a function registered by name (issue 26): only when called.

`@ffix.register_global_func("rg.session._import_module")` comes from outside the project, so the
closed-world import-time analysis takes it as a possible call of the function. When the function
is reached only from that decorator (a configured registry function) and every lookup of the name
sits in a function no import runs, the dynamic import runs only when called, as in CPython; a
lookup at module level (rg.eager) keeps it at import time. The fixture `reach_registered` is
checked against CPython (`ext/` holds the outside registry, on sys.path at run time only).
"""

from __future__ import annotations

import json

from .conftest import FIXTURES
from .inprocess import run_main
from .reach.runtime import runtime_truth

FIXTURE = FIXTURES / "reach_registered"


def test_a_registered_function_looked_up_in_a_method_runs_only_when_called(tmp_path):
    truth = runtime_truth(FIXTURE, ["src", "ext"], "rg.plugins.fast", {}, workdir=tmp_path)
    assert not truth.failing_anyway
    # rg.session's loader never runs on import; rg.eager's, looked up at module level, does
    assert set(truth.broken) == {"rg.eager"}
    code, out, err = run_main("delete-plan", "rg.plugins.fast", ".", "--no-cache", "--format", "json", cwd=FIXTURE)
    assert code == 1, err
    plan = json.loads(out)
    unknown = {(u["path"], u["line"]): u for u in plan["unknown"]}
    session = unknown[("src/rg/session.py", 6)]
    assert session["at_import"] is False
    assert session["when"].startswith("only when called: _import_module() is registered by name "
                                      "(rg.session._import_module, src/rg/session.py:4)")
    assert unknown[("src/rg/eager.py", 8)]["at_import"] is True
    assert plan["import_time"] == "unknown"  # never Clean: rg.eager breaks
