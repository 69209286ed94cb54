"""facts/dynamic_calls.py on its own: the calls in one statement's expressions that may be a
dynamic import, in source order, with the guards the expression adds around each."""

from __future__ import annotations

import libcst as cst

from scopeguard.base.model import Guard, GuardKind, Toggle
from scopeguard.facts import ToggleMatcher
from scopeguard.facts.dynamic_calls import DynamicCallFinder
from scopeguard.facts.guard_walk import GuardWalk

MATCHER = ToggleMatcher([Toggle("msc", on_when_true=("USE_MSC",))])
OUTER = (Guard(GuardKind.FUNCTION, 3, "def f"),)


class Positions:
    """Stands in for positions.*Positions: a call's position is (statement index, call index)."""

    def may_call(self, index: int) -> bool:
        return True

    def call(self, index: int, node: cst.CSTNode, call_index: int) -> tuple[int, int]:
        return index, call_index


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[int, int], tuple[Guard, ...]]] = []

    def small_statement(self, small, index, guards) -> None:
        pass

    def dynamic_call(self, call: cst.Call, position: tuple[int, int], guards) -> None:
        self.calls.append((cst.Module(body=[]).code_for_node(call), position, guards))


def found(text: str, callees=frozenset({"import_module", "__import__"})):
    tree = cst.parse_module(text)
    recorder = Recorder()
    walk = GuardWalk(MATCHER.for_file(tree, text.encode(), "pkg.mod", False), Positions(), [recorder], True, callees)
    finder = DynamicCallFinder(walk, 7, OUTER)
    tree.body[0].visit(finder)
    return recorder.calls, finder.count


def condition(text: str, knowledge=frozenset(), mentioned=frozenset()) -> Guard:
    return Guard(GuardKind.CONDITION, 0, text, knowledge, mentioned)


def test_calls_in_source_order_each_numbered():
    assert found("x = import_module('a') + __import__('b') + other('c')\n") == (
        [("import_module('a')", (7, 0), OUTER), ("__import__('b')", (7, 1), OUTER)],
        2,
    )


def test_only_the_callees_given():
    assert found("x = import_module('a')\n", callees=frozenset({"find_spec"})) == ([], 0)
    assert found("x = importlib.find_spec('a')\n", callees=frozenset({"find_spec"})) == (
        [("importlib.find_spec('a')", (7, 0), OUTER)], 1,
    )


def test_getattr_of_the_callee():
    assert found("m = getattr(importlib, 'import_module')('a')\n") == (
        [("getattr(importlib, 'import_module')('a')", (7, 0), OUTER)], 1,
    )


def test_a_conditional_expression_guards_its_branches_not_its_test():
    calls, _ = found("m = import_module('a') if USE_MSC else import_module(__import__('b'))\n")
    on = condition("if USE_MSC", frozenset({("msc", True)}))
    off = condition("if not (USE_MSC)", frozenset({("msc", False)}))
    assert calls == [
        ("import_module('a')", (7, 0), OUTER + (on,)),
        ("import_module(__import__('b'))", (7, 1), OUTER + (off,)),
        ("__import__('b')", (7, 2), OUTER + (off,)),
    ]


def test_the_right_operands_of_and_or():
    on = condition("if USE_MSC", frozenset({("msc", True)}))
    off = condition("if not (USE_MSC)", frozenset({("msc", False)}))
    assert found("x = USE_MSC and import_module('a')\n")[0] == [("import_module('a')", (7, 0), OUTER + (on,))]
    assert found("x = USE_MSC or import_module('a')\n")[0] == [("import_module('a')", (7, 0), OUTER + (off,))]
    # `a and b and c`: c runs only when a and b are true
    calls, _ = found("x = USE_MSC and ready and import_module('a')\n")
    assert calls == [("import_module('a')", (7, 0), OUTER + (on, condition("if USE_MSC and ready", frozenset({("msc", True)}))))]


def test_a_test_naming_no_toggle_adds_no_guard():
    calls, _ = found("x = ready and import_module('a')\n")
    assert calls == [("import_module('a')", (7, 0), OUTER)]


def test_lambdas():
    calls, _ = found("f = lambda m=__import__('d'): import_module('a')\n")
    assert calls == [
        ("__import__('d')", (7, 0), OUTER),  # a default runs where the lambda is written
        ("import_module('a')", (7, 1), OUTER + (Guard(GuardKind.FUNCTION, 0, "lambda"),)),
    ]
    calls, _ = found("m = (lambda: import_module('a'))()\n")  # called at once: runs now
    assert calls == [("import_module('a')", (7, 0), OUTER)]


def test_f_strings_in_a_concatenated_string():
    calls, count = found("s = 'a' 'b' f\"{import_module('c')}\" 'd' f'{__import__(\"e\")}'\n")
    assert [(text, position) for text, position, _ in calls] == [
        ("import_module('c')", (7, 0)), ('__import__("e")', (7, 1)),
    ]
    assert count == 2


def test_long_chains_do_not_recurse():
    # a plain libcst visit of each of these exceeds the recursion limit
    text = "x = " + " + ".join(["1"] * 1200) + " + import_module('a')\n"
    assert found(text)[1] == 1
    text = "x = " + " or ".join(["y"] * 500) + " or import_module('a')\n"
    assert found(text)[1] == 1
    text = "x = " + " ".join(["'s'"] * 1200) + " f'{import_module(\"a\")}'\n"
    assert found(text)[1] == 1
