"""facts/exits.py on its own: statements that end a block, handler paths that leave, a loop's own
`break` and `continue`."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from scopeguard.facts.exits import is_exit, loop_breaks, loop_continues, may_leave

SYS_EXIT = frozenset({"sys.exit", "stop"})


def statements(source: str) -> list[cst.CSTNode]:
    return list(cst.parse_module(textwrap.dedent(source)).body)


def small(source: str) -> cst.BaseSmallStatement:
    line = statements(source)[0]
    assert isinstance(line, cst.SimpleStatementLine)
    return line.body[0]


@pytest.mark.parametrize(
    "source, exits",
    [
        ("return", True), ("return 1", True), ("raise", True), ("raise X from e", True),
        ("sys.exit(1)", True), ("stop()", True),
        ("os._exit(1)", False),  # not among the exit calls given
        ("sys.exit", False),  # not called
        ("x = sys.exit()", False),  # only a call statement ends the block
        ("pass", False), ("print('x')", False), ("del x", False),
    ],
)
def test_is_exit(source, exits):
    assert is_exit(small(source), SYS_EXIT) is exits


def test_is_exit_of_loop_statements():
    loop = statements("for x in y:\n    break\n    continue\n")[0]
    assert [is_exit(line.body[0], frozenset()) for line in loop.body.body] == [True, True]


@pytest.mark.parametrize(
    "source, leaves",
    [
        ("raise", True),
        ("log()\nraise RuntimeError('off') from None", True),
        ("if x:\n    raise\n", True),
        ("try:\n    pass\nfinally:\n    sys.exit(2)\n", True),
        ("with lock:\n    stop()\n", True),
        ("for a in b:\n    pass\nelse:\n    raise\n", True),
        ("match x:\n    case 1:\n        raise\n", True),
        ("try:\n    pass\nexcept E:\n    raise\n", True),
        ("return None", False),  # a return is no raise: the handler still swallows the failure
        ("pass", False),
        ("x = None", False),
        ("def f():\n    raise\n", False),  # a nested function's raise is not this handler's
        ("class C:\n    raise\n", False),
        ("os.abort()", False),
    ],
)
def test_may_leave(source, leaves):
    assert may_leave(statements(source), SYS_EXIT) is leaves


def loop(source: str) -> cst.For | cst.While:
    stmt = statements(source)[0]
    assert isinstance(stmt, (cst.For, cst.While))
    return stmt


@pytest.mark.parametrize(
    "source, breaks",
    [
        ("while x:\n    break\n", True),
        ("while x:\n    if y:\n        break\n", True),
        ("while x:\n    try:\n        pass\n    except E:\n        break\n", True),
        ("while x:\n    for a in b:\n        break\n", False),  # the inner loop's own break
        ("while x:\n    while y:\n        pass\n    else:\n        break\n", True),  # an inner else's is ours
        ("while x:\n    def f():\n        pass\n", False),
        ("while x:\n    continue\n", False),
        ("for a in b:\n    pass\nelse:\n    pass\n", False),
    ],
)
def test_loop_breaks(source, breaks):
    assert loop_breaks(loop(source).body) is breaks


@pytest.mark.parametrize(
    "source, continues",
    [
        ("continue", True),
        ("if x:\n    continue\n", True),
        ("with m:\n    if x:\n        pass\n    else:\n        continue\n", True),
        ("for a in b:\n    continue\n", False),  # its own loop's continue
        ("while a:\n    pass\nelse:\n    continue\n", True),
        ("if x:\n    break\n", False),
        ("pass", False),
    ],
)
def test_loop_continues(source, continues):
    assert loop_continues(statements(source)[0]) is continues
