"""facts/guard_walk.py on its own: GuardWalk hands each small statement to the passes with the
guards around it, keeps each statement's guards and line, and composes early exits."""

from __future__ import annotations

import textwrap

import libcst as cst

from scopeguard.base.model import Guard, GuardKind, Toggle
from scopeguard.facts import ToggleMatcher
from scopeguard.facts.file_context import WalkContext
from scopeguard.facts.guard_walk import GuardWalk, guards_have_function
from scopeguard.facts.positions import CstPositions

MATCHER = ToggleMatcher([Toggle("msc", on_when_true=("USE_MSC",))])
ON = frozenset({("msc", True)})
OFF = frozenset({("msc", False)})


class Recorder:
    def __init__(self) -> None:
        self.statements: list[tuple[int, str, tuple]] = []
        self.calls: list[tuple[tuple[int, int], tuple]] = []

    def small_statement(self, small, index, guards) -> None:
        self.statements.append((index, cst.Module(body=[]).code_for_node(small), guards))

    def dynamic_call(self, call, position, guards) -> None:
        self.calls.append((position, guards))


def walk(source: str, context: WalkContext | None = None) -> tuple[GuardWalk, Recorder]:
    text = textwrap.dedent(source)
    tree = cst.parse_module(text)
    recorder = Recorder()
    guard_walk = GuardWalk(MATCHER.for_file(tree, text.encode(), "m", False), CstPositions(tree), [recorder],
                           True, frozenset({"import_module"}), context=context)
    guard_walk.run(tree)
    return guard_walk, recorder


def test_each_small_statement_with_its_guards_and_line():
    guard_walk, recorder = walk(
        """\
        import a
        if USE_MSC:
            import b
        def f():
            import c; x = import_module("d")
        if not USE_MSC:
            sys.exit(1)
        import e
        """
    )
    f = Guard(GuardKind.FUNCTION, 4, "def f")
    assert recorder.statements == [
        (0, "import a", ()),
        (2, "import b", (Guard(GuardKind.CONDITION, 2, "if USE_MSC", ON),)),
        (4, "import c; ", (f,)),  # libcst keeps the semicolon with the statement
        (5, 'x = import_module("d")', (f,)),
        (7, "sys.exit(1)", (Guard(GuardKind.CONDITION, 6, "if not USE_MSC", OFF),)),
        (8, "import e", (Guard(GuardKind.EARLY_EXIT, 6, "after `if not USE_MSC` (only some of its branches go on)", ON),)),
    ]
    assert recorder.calls == [((5, 19), (f,))]
    assert guard_walk.statement_lines == [1, 2, 3, 4, 5, 5, 6, 7, 8]
    assert guard_walk.statement_guards[6] == ()  # the `if` itself
    assert len(guard_walk.statement_guards) == 9


def test_the_exit_calls_come_from_the_context():
    source = "if not USE_MSC:\n    stop()\nimport e\n"
    _, recorder = walk(source)
    assert recorder.statements[-1] == (2, "import e", ())
    _, recorder = walk(source, WalkContext(exit_calls=frozenset({"stop"})))
    assert recorder.statements[-1][2] == (
        Guard(GuardKind.EARLY_EXIT, 1, "after `if not USE_MSC` (only some of its branches go on)", ON),
    )


def test_handlers_and_dead_code():
    _, recorder = walk(
        """\
        try:
            import a
        except ImportError:
            a = None
        if False:
            import b
        raise SystemExit
        import c
        """
    )
    assert [(text, guards) for _, text, guards in recorder.statements] == [
        ("import a", (Guard(GuardKind.OPTIONAL, 1, "except ImportError", catches=frozenset({"ImportError"})),)),
        ("a = None", ()),
        ("import b", (Guard(GuardKind.DEAD, 5, "if False"),)),
        ("raise SystemExit", ()),
        ("import c", (Guard(GuardKind.DEAD, 0, "after an unconditional exit"),)),
    ]


def test_guards_have_function():
    assert guards_have_function((Guard(GuardKind.CONDITION, 1, "if x"), Guard(GuardKind.FUNCTION, 2, "def f")))
    assert not guards_have_function((Guard(GuardKind.CONDITION, 1, "if x"), Guard(GuardKind.DECORATOR, 2, "@d")))
    assert not guards_have_function(())
