"""Issue 24: one project-wide "may run at import time" analysis (analysis/import_time.py), judged
against CPython: every "lazy" (SG202 only) claim below is checked by importing each module with the
scope deleted (tests/reach/runtime.py), and every import-time claim (SG201 at the statement that
starts the chain) by seeing the module break.

The patterns are TVM's: a registry decorator that keeps the function in a table (TVMScript's
`dispatch.register`), a decorator from outside the project (`tvm_ffi.register_global_func`), class
annotations, `setattr` on a function, a function of another module called or applied at import time.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from .inprocess import run_main
from .reach.runtime import runtime_truth

PYPROJECT = """\
[tool.scopeguard]
source_roots = ["src"]

[[tool.scopeguard.scopes]]
name = "dp.plug"
"""

BASE = {
    "src/dp/__init__.py": "",
    "src/dp/plug/__init__.py": "VALUE = 1\n",
}

LAZY = """\
def build():
    from dp.plug import VALUE
    return VALUE
"""


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "proj"
    for path, text in {**BASE, **files}.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


def findings(root: Path) -> list[tuple[str, str, int]]:
    _, out, err = run_main("check", str(root), "--no-cache", "--format", "json")
    data = json.loads(out)
    return sorted((v["code"], v["path"], v["line"]) for v in data["violations"] if v["code"].startswith("SG2"))


def messages(root: Path, code: str) -> list[str]:
    _, out, _ = run_main("check", str(root), "--no-cache", "--format", "json")
    return [v["message"] for v in json.loads(out)["violations"] if v["code"] == code]


def broken(root: Path) -> set[str]:
    return set(runtime_truth(root, ["src"], "dp.plug", {}).broken)


def test_a_function_of_another_module_called_at_import_time_is_reported_at_the_call(tmp_path):
    root = project(tmp_path, {
        "src/dp/lib.py": LAZY,
        "src/dp/user.py": "from dp import lib\n\nlib.build()\n",
    })
    assert findings(root) == [("SG201", "src/dp/user.py", 3), ("SG202", "src/dp/lib.py", 2)]
    assert broken(root) == {"dp.user"}
    assert "through src/dp/user.py:3 build() -> src/dp/lib.py:2 import dp.plug" in messages(root, "SG201")[0]


def test_a_decorator_of_another_module_runs_when_the_decorated_function_is_defined(tmp_path):
    root = project(tmp_path, {
        "src/dp/deco.py": "def traced(fn):\n    from dp.plug import VALUE\n    return fn\n",
        "src/dp/user.py": "from dp.deco import traced\n\n\n@traced\ndef run():\n    pass\n",
    })
    assert findings(root) == [("SG201", "src/dp/user.py", 4), ("SG202", "src/dp/deco.py", 2)]
    assert broken(root) == {"dp.user"}


def test_a_registry_decorator_that_keeps_the_function_does_not_call_it(tmp_path):
    # TVMScript's dispatch.register: the decorator stores the function in a table, read later.
    root = project(tmp_path, {
        "src/dp/dispatch.py": (
            "TABLE = {}\n\n\ndef register(token):\n    def keep(method):\n"
            "        TABLE[token] = method\n        return method\n    return keep\n"
        ),
        "src/dp/user.py": "from dp import dispatch\n\n\n@dispatch.register('x')\n" + LAZY.replace("def build", "def visit"),
    })
    assert findings(root) == [("SG202", "src/dp/user.py", 6)]
    assert broken(root) == set()


def test_reading_the_registry_at_import_time_calls_what_it_holds(tmp_path):
    root = project(tmp_path, {
        "src/dp/dispatch.py": (
            "TABLE = {}\n\n\ndef register(token):\n    def keep(method):\n"
            "        TABLE[token] = method\n        return method\n    return keep\n"
        ),
        "src/dp/user.py": "from dp import dispatch\n\n\n@dispatch.register('x')\n" + LAZY.replace("def build", "def visit")
        + "\n\ndispatch.TABLE['x']()\n",
    })
    assert ("SG201", "src/dp/user.py", 10) in findings(root)
    assert broken(root) == {"dp.user"}


def test_a_decorator_from_outside_the_project_may_call_the_function(tmp_path):
    # tvm_ffi.register_global_func is not in the tree: what it does with the function is not known.
    root = project(tmp_path, {
        "src/dp/user.py": "import functools\nimport outside_pkg\n\n\n@outside_pkg.register('x')\n" + LAZY,
    })
    assert ("SG201", "src/dp/user.py", 5) in findings(root)


def test_known_wrappers_and_annotations_call_nothing(tmp_path):
    root = project(tmp_path, {
        "src/dp/kinds.py": "class Kind:\n    def __init__(self):\n        from dp.plug import VALUE\n",
        "src/dp/user.py": (
            "import atexit\nimport functools\nfrom dp.kinds import Kind\n\n\n"
            "class Trait:\n    kind: Kind\n    other: 'Kind'\n\n\n"
            "def use(kind: Kind) -> list[Kind]:\n    return [kind]\n\n\n"
            "@functools.lru_cache\n" + LAZY + "\n\natexit.register(build)\nsetattr(build, 'token', 'x')\n"
        ),
    })
    assert findings(root) == [("SG202", "src/dp/kinds.py", 3), ("SG202", "src/dp/user.py", 17)]
    assert broken(root) == set()


def test_an_instance_kept_in_a_name_runs_only_its_constructor(tmp_path):
    root = project(tmp_path, {
        "src/dp/user.py": (
            "class Holder:\n    def __init__(self):\n        self.x = 1\n\n"
            "    def __repr__(self):\n        from dp.plug import VALUE\n        return 'h'\n\n\n"
            "DEFAULT = Holder()\n"
        ),
    })
    assert findings(root) == [("SG202", "src/dp/user.py", 6)]
    assert broken(root) == set()


def test_an_instance_used_at_import_time_may_run_its_special_methods(tmp_path):
    root = project(tmp_path, {
        "src/dp/user.py": (
            "class Holder:\n    def __enter__(self):\n        from dp.plug import VALUE\n        return self\n\n"
            "    def __exit__(self, *exc):\n        return False\n\n\n"
            "with Holder():\n    pass\n"
        ),
    })
    assert ("SG201", "src/dp/user.py", 10) in findings(root)
    assert broken(root) == {"dp.user"}


def test_a_base_class_of_another_module_runs_its_init_subclass(tmp_path):
    root = project(tmp_path, {
        "src/dp/base.py": "class Base:\n    def __init_subclass__(cls):\n        from dp.plug import VALUE\n",
        "src/dp/user.py": "from dp.base import Base\n\n\nclass Child(Base):\n    pass\n",
    })
    assert findings(root) == [("SG201", "src/dp/user.py", 4), ("SG202", "src/dp/base.py", 3)]
    assert broken(root) == {"dp.user"}


def test_a_from_import_served_by_a_module_getattr_runs_it(tmp_path):
    root = project(tmp_path, {
        "src/dp/lazy.py": "def __getattr__(name):\n    from dp.plug import VALUE\n    return VALUE\n",
        "src/dp/user.py": "from dp.lazy import anything\n",
    })
    assert ("SG201", "src/dp/user.py", 1) in findings(root)
    assert broken(root) == {"dp.user"}


def test_a_literal_globals_read_reads_one_name_and_type_checking_imports_never_run(tmp_path):
    # transformers' `_LazyModule(__name__, globals()["__file__"], ...)` beside TYPE_CHECKING imports.
    root = project(tmp_path, {
        "src/dp/args.py": "class Args:\n    def __post_init__(self):\n        from dp.plug import VALUE\n",
        "src/dp/pkg.py": (
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from dp.args import Args\n\n"
            "FILE = globals()['__file__']\n"
        ),
        "src/dp/user.py": "def build():\n    from dp.plug import VALUE\n\n\nglobals()['build']()\n",
    })
    assert findings(root) == [("SG201", "src/dp/user.py", 5), ("SG202", "src/dp/args.py", 3),
                              ("SG202", "src/dp/user.py", 2)]
    assert broken(root) == {"dp.user"}


FACTORY = """\
import os

TABLE = {}


def register(token):
    def keep(method):
        TABLE[token] = method
        return method
    if token:
        return keep
    chosen = os.environ.get("DP_RUNNER", "call")
    runner = {"call": lambda fn: fn() or fn}[chosen]
    return runner
"""


def test_a_decorator_factory_that_may_return_a_value_it_cannot_name_may_call_the_function(tmp_path):
    # register('') returns a local on its second path, which calls the function: not only `keep`.
    root = project(tmp_path, {
        "src/dp/dispatch.py": FACTORY,
        "src/dp/user.py": "from dp import dispatch\n\n\n@dispatch.register('')\n" + LAZY,
    })
    assert findings(root) == [("SG201", "src/dp/user.py", 4), ("SG202", "src/dp/user.py", 6)]
    assert broken(root) == {"dp.user"}


def test_the_same_factory_returning_the_keeper_on_every_path_does_not_call_it(tmp_path):
    # the precision kept: every return is named, and `keep` stores the function only
    root = project(tmp_path, {
        "src/dp/dispatch.py": FACTORY.replace("    runner = {\"call\": lambda fn: fn() or fn}[chosen]\n    return runner\n",
                                              "    return keep\n"),
        "src/dp/user.py": "from dp import dispatch\n\n\n@dispatch.register('')\n" + LAZY,
    })
    assert findings(root) == [("SG202", "src/dp/user.py", 6)]
    assert broken(root) == set()


# An import's failure turned into another exception before the handler that would catch it.

FAIL = "def _fail():\n    raise RuntimeError('plug is required')\n\n\n"


def plan_broken(root: Path) -> list[str]:
    _, out, _ = run_main("delete-plan", "dp.plug", "--format", "json", cwd=root)
    return sorted(b["module"] for b in json.loads(out)["broken"])


def test_a_handler_that_calls_a_failing_function_is_not_absorbed_by_an_importer_suppress(tmp_path):
    root = project(tmp_path, {
        "src/dp/lib.py": FAIL + "try:\n    from dp.plug import VALUE\nexcept ImportError:\n    _fail()\n",
        "src/dp/user.py": "import contextlib\n\nwith contextlib.suppress(ImportError):\n    from dp import lib\n",
    })
    assert plan_broken(root) == ["dp.lib", "dp.user"]
    assert broken(root) == {"dp.lib", "dp.user"}


def test_raise_from_inside_a_function_called_under_an_outer_handler_is_not_absorbed(tmp_path):
    root = project(tmp_path, {
        "src/dp/user.py": (
            "try:\n    def build():\n        try:\n            from dp.plug import VALUE\n"
            "        except ImportError as error:\n            raise RuntimeError('need plug') from error\n\n"
            "    build()\nexcept ImportError:\n    pass\n"
        ),
    })
    assert findings(root) == [("SG201", "src/dp/user.py", 4)]  # the call's import-time copy
    assert plan_broken(root) == ["dp.user"]
    assert broken(root) == {"dp.user"}


def test_an_outer_handler_that_catches_what_the_inner_one_raises_absorbs_it(tmp_path):
    # precision: `raise RuntimeError(...) from e` arrives as a RuntimeError, `except Exception` takes it
    root = project(tmp_path, {
        "src/dp/lib.py": "try:\n    from dp.plug import VALUE\nexcept ImportError as error:\n"
                         "    raise RuntimeError('need plug') from error\n",
        "src/dp/user.py": "try:\n    from dp import lib\nexcept Exception:\n    lib = None\n",
    })
    assert plan_broken(root) == ["dp.lib"]
    assert broken(root) == {"dp.lib"}


def test_an_error_of_set_name_may_arrive_as_a_runtime_error(tmp_path):
    # Python < 3.12 wraps it in RuntimeError: `except ImportError` in the importer is not enough,
    # `except (ImportError, RuntimeError)` is.
    lib = ("class Field:\n    def __set_name__(self, owner, name):\n        from dp.plug import VALUE\n\n\n"
           "class Model:\n    field = Field()\n")
    root = project(tmp_path, {
        "src/dp/lib.py": lib,
        "src/dp/user.py": "try:\n    from dp import lib\nexcept ImportError:\n    lib = None\n",
        "src/dp/both.py": "try:\n    from dp import lib\nexcept (ImportError, RuntimeError):\n    lib = None\n",
    })
    assert plan_broken(root) == ["dp.lib", "dp.user"]
    import sys
    expected = {"dp.lib", "dp.user"} if sys.version_info < (3, 12) else {"dp.lib"}
    assert broken(root) == expected


def test_a_handler_around_a_def_does_not_protect_a_later_call(tmp_path):
    root = project(tmp_path, {
        "src/dp/user.py": "try:\n    def build():\n        from dp.plug import VALUE\nexcept ImportError:\n    pass\n\n\nbuild()\n",
    })
    assert findings(root) == [("SG201", "src/dp/user.py", 3)]  # the call's import-time copy
    assert plan_broken(root) == ["dp.user"]
    assert broken(root) == {"dp.user"}


def test_a_call_under_the_main_guard_runs_when_the_module_is_run_not_when_it_is_imported(tmp_path):
    # TVM 0.27's s_tir/meta_schedule/testing/validate_database.py: `if __name__ == "__main__": main()`
    root = project(tmp_path, {
        "src/dp/lib.py": LAZY,
        "src/dp/tool.py": "from dp import lib\n\n\ndef main():\n    lib.build()\n\n\nif __name__ == '__main__':\n    main()\n",
    })
    assert broken(root) == set()  # CPython: importing every module with the scope deleted
    assert findings(root) == [("SG202", "src/dp/lib.py", 2)]


# The decorator factory usable bare or with arguments (matplotlib's `_isolated_tk_test`): called
# with arguments only, it returns `functools.partial` of itself, and the partial, applied to the
# function, returns it (the parameter the call did not fill has a constant default).

DUAL = """\
import functools


def isolated(count=1, func=None):
    if func is None:
        return functools.partial(isolated, count)
{body}    return func
"""

USER = "from dp.testing import isolated\n\n\n@isolated(count=6)\n" + LAZY


def test_a_dual_use_decorator_factory_returning_its_function_does_not_call_it(tmp_path):
    root = project(tmp_path, {"src/dp/testing.py": DUAL.format(body=""), "src/dp/user.py": USER})
    assert findings(root) == [("SG202", "src/dp/user.py", 6)]
    assert broken(root) == set()


def test_the_same_factory_calling_the_function_it_is_handed_calls_it(tmp_path):
    root = project(tmp_path, {"src/dp/testing.py": DUAL.format(body="    func()\n"), "src/dp/user.py": USER})
    assert findings(root) == [("SG201", "src/dp/user.py", 4), ("SG202", "src/dp/user.py", 6)]
    assert broken(root) == {"dp.user"}


RUNNER = "def run_now(fn):\n    fn()\n    return fn\n\n\n"


def test_a_factory_returning_a_parameter_the_call_fills_or_whose_default_is_a_function_may_call_it(tmp_path):
    # `deco(1, run_now)` returns run_now; `deco2(1)` returns its default, run_now: both call the function.
    for factory, applied in (("def deco(n, wrapper=None):\n    return wrapper\n", "deco(1, run_now)"),
                             ("def deco(n, wrapper=run_now):\n    return wrapper\n", "deco(1)")):
        root = project(tmp_path / applied.replace("(", "_").replace(")", "").replace(", ", "_"), {
            "src/dp/testing.py": RUNNER + factory,
            "src/dp/user.py": f"from dp.testing import deco, run_now\n\n\n@{applied}\n" + LAZY,
        })
        assert findings(root) == [("SG201", "src/dp/user.py", 4), ("SG202", "src/dp/user.py", 6)], applied
        assert broken(root) == {"dp.user"}, applied


def test_a_partial_hands_the_function_to_the_parameter_after_the_bound_ones(tmp_path):
    # partial(apply, n, 2)(f) is apply(n, 2, f): it calls f when the third parameter is called.
    for params, calls in (("a, b, f", True), ("a, f, b=None", False)):
        root = project(tmp_path / params.replace(", ", "_").replace("=", ""), {
            "src/dp/testing.py": (f"from functools import partial\n\n\ndef apply({params}):\n    f()\n\n\n"
                                  "def deco(n):\n    return partial(apply, n, 2)\n"),
            "src/dp/user.py": "from dp.testing import deco\n\n\n@deco(1)\n" + LAZY,
        })
        if calls:
            assert findings(root) == [("SG201", "src/dp/user.py", 4), ("SG202", "src/dp/user.py", 6)]
            assert broken(root) == {"dp.user"}
        else:  # apply(1, 2, f): f lands on b, and calling 2 raises TypeError before anything imports
            assert findings(root) == [("SG202", "src/dp/user.py", 6)]
