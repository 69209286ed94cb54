"""facts/file_context.py on its own: the exit calls, exception aliases, suppress names and
module-level names of a file (WalkContext)."""

from __future__ import annotations

import ast
import textwrap

from scopeguard.facts.astnodes import in_source_order
from scopeguard.facts.bindings import ImportBindings
from scopeguard.facts.file_context import EXIT_CALLS, WalkContext, walk_context

DEFAULT_EXITS = frozenset({"sys.exit", "os._exit", "os.abort", "pytest.skip", "pytest.fail", "pytest.exit"})


def context_of(source: str) -> WalkContext:
    tree = ast.parse(textwrap.dedent(source))
    bindings = ImportBindings.of(in_source_order(tree), "pkg.mod", False)
    return walk_context(bindings, tree)


def test_the_default_context():
    assert EXIT_CALLS == DEFAULT_EXITS | {"exit", "quit"}
    assert WalkContext() == WalkContext(EXIT_CALLS, {}, frozenset({"suppress"}), frozenset())


def test_a_file_with_no_tree_has_the_default_context():
    assert walk_context(ImportBindings.of([], "pkg.mod", False), None) == WalkContext()


def test_aliases_of_exit_calls_suppress_and_exception_types():
    context = context_of(
        """\
        import sys as system
        import pytest
        from os import _exit as die
        from contextlib import suppress as ignore
        _ERRS = (ImportError, builtins.OSError)
        Err = mod.ModError
        stop = sys.exit
        quiet = contextlib.suppress
        """
    )
    assert context.exit_calls == DEFAULT_EXITS | {"system.exit", "die", "stop", "exit", "quit"}
    assert context.suppress_names == frozenset({"suppress", "ignore", "quiet"})
    assert context.error_names == {"_ERRS": ("ImportError", "OSError"), "Err": ("ModError",)}
    assert context.module_names == frozenset({"system", "pytest", "die", "ignore", "_ERRS", "Err", "stop", "quiet"})


def test_names_the_file_binds_itself_are_not_the_exit_builtins():
    context = context_of(
        """\
        def exit(code):
            pass
        class sys:
            pass
        if True:
            quit = 1
        """
    )
    assert context.exit_calls == DEFAULT_EXITS - {"sys.exit"}
    assert context.module_names == frozenset({"exit", "sys", "quit"})


def test_an_imported_sys_that_is_also_rebound_is_not_the_module():
    assert "sys.exit" in context_of("import sys\n").exit_calls
    assert "sys.exit" not in context_of("import sys\nsys = object()\n").exit_calls


def test_a_name_bound_twice_is_no_alias():
    context = context_of("E = ImportError\nE = OSError\nF = (A, b())\nG = ImportError\n")
    assert context.error_names == {"G": ("ImportError",)}
    assert context.module_names == frozenset({"E", "F", "G"})


def test_names_bound_inside_blocks_and_handlers_count():
    context = context_of(
        """\
        try:
            import json
        except ImportError:
            json = None
        for i in range(3):
            total: int = i
        with open(p) as handle:
            x, (y, z) = 1, (2, 3)
        while False:
            n += 1
        """
    )
    # statements nested in the blocks count; a loop's target and a `with ... as` name do not
    assert context.module_names == frozenset({"json", "total", "x", "y", "z", "n"})
