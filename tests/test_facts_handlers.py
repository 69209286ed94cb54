"""facts/handlers.py on its own: what an `except` or `contextlib.suppress(...)` catches, and
whether a failed import it swallows comes back right after."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from scopeguard.facts.handlers import (
    CATCH_ALL,
    LOOKUP_ERROR_CATCHERS,
    catches_one_of,
    handler_catches,
    handler_may_catch,
    non_suppressing,
    raised_instead,
    suppresses,
    used_after,
)

ERRS = {"_ERRS": ("ImportError", "OSError"), "Lookup": ("KeyError",)}


def handler(clause: str) -> cst.ExceptHandler:
    stmt = cst.parse_module(f"try:\n    pass\n{clause}:\n    pass\n").body[0]
    assert isinstance(stmt, cst.Try)
    return stmt.handlers[0]


def expr(text: str) -> cst.BaseExpression:
    return cst.parse_expression(text)


@pytest.mark.parametrize(
    "clause, caught",
    [
        ("except", {"ImportError", "AttributeError", "RuntimeError", "Error", "?"}),
        ("except ImportError", {"ImportError"}),
        ("except ModuleNotFoundError as e", {"ModuleNotFoundError"}),
        ("except AttributeError", {"AttributeError"}),
        ("except Exception", {"ImportError", "AttributeError", "RuntimeError", "Error"}),
        ("except BaseException", {"ImportError", "AttributeError", "RuntimeError", "Error", "?"}),
        ("except (ImportError, RuntimeError)", {"ImportError", "RuntimeError"}),
        ("except (ModuleNotFoundError, OSError)", {"ModuleNotFoundError"}),
        ("except (OSError, AttributeError, ImportError)", {"ImportError", "AttributeError"}),
        ("except builtins.ImportError", {"ImportError"}),
        ("except _ERRS", {"ImportError"}),  # a module-level alias of a tuple
        ("except (Lookup, ModuleNotFoundError)", {"ModuleNotFoundError"}),
        ("except mod._ERRS", set()),  # an alias is a plain name of this file
        ("except ValueError", set()),
        ("except OSError", set()),
    ],
)
def test_handler_catches(clause, caught):
    assert handler_catches(handler(clause), ERRS) == caught


def test_a_bare_except_catches_all_that_deleting_can_raise():
    # the import failures, and what a handler inside or __set_name__ may have turned them into
    assert handler_catches(handler("except"), {}) == set(CATCH_ALL) == {"ImportError", "AttributeError", "RuntimeError", "Error", "?"}


@pytest.mark.parametrize(
    "text, names, caught",
    [
        ("suppress(ImportError)", {"suppress"}, {"ImportError"}),
        ("contextlib.suppress(ModuleNotFoundError, OSError)", {"suppress"}, {"ModuleNotFoundError"}),
        ("suppress(Exception)", {"suppress"}, {"ImportError", "AttributeError", "RuntimeError", "Error"}),
        ("suppress(_ERRS)", {"suppress"}, {"ImportError"}),
        ("ignore(ImportError)", {"suppress", "ignore"}, {"ImportError"}),
        ("ignore(ImportError)", {"suppress"}, set()),  # not known to be contextlib.suppress
        ("x.ignore(ImportError)", {"ignore"}, set()),  # a local name, not an attribute
        ("suppress(ValueError)", {"suppress"}, set()),
        ("suppress()", {"suppress"}, set()),
        ("suppress", {"suppress"}, set()),  # not a call
        ("open(path)", {"suppress"}, set()),
    ],
)
def test_suppresses(text, names, caught):
    assert suppresses(expr(text), frozenset(names), ERRS) == caught


@pytest.mark.parametrize(
    "clause, names, bare, found",
    [
        ("except (ValueError, OSError)", LOOKUP_ERROR_CATCHERS, False, True),
        ("except tvm.TVMError", LOOKUP_ERROR_CATCHERS, False, True),
        ("except KeyError as e", LOOKUP_ERROR_CATCHERS, False, True),
        ("except OSError", LOOKUP_ERROR_CATCHERS, False, False),
        ("except Exception", LOOKUP_ERROR_CATCHERS, False, False),
        ("except", LOOKUP_ERROR_CATCHERS, False, False),
        ("except", frozenset(), True, True),
        ("except ImportError", frozenset({"ImportError"}), False, True),
    ],
)
def test_catches_one_of(clause, names, bare, found):
    assert catches_one_of(handler(clause), names, bare=bare) is found


@pytest.mark.parametrize(
    "text, never",
    [
        ("open(path)", True), ("contextlib.nullcontext()", True), ("torch.no_grad()", True),
        ("threading.Lock()", True), ("warnings.catch_warnings(record=True)", True),
        ("suppress(ImportError)", False), ("lock", False), ("manager()", False), ("self.open", False),
    ],
)
def test_non_suppressing(text, never):
    assert non_suppressing(expr(text)) is never


def split(source: str) -> tuple[cst.CSTNode, list[cst.CSTNode]]:
    body = list(cst.parse_module(textwrap.dedent(source)).body)
    return body[0], body[1:]


@pytest.mark.parametrize(
    "source, comes_back",
    [
        # left None, then used for sure: the failure swallowed comes back at once
        ("try:\n    import feat\nexcept ImportError:\n    feat = None\nfeat.run()\n", True),
        ("try:\n    from a import feat\nexcept ImportError:\n    feat = None\nx = feat[0]\n", True),
        ("try:\n    import feat as f\nexcept ImportError:\n    f = None\ny = f()\n", True),
        # left unbound: any use fails
        ("try:\n    import feat\nexcept ImportError:\n    pass\nprint(feat)\n", True),
        ("with suppress(ImportError):\n    import feat\nprint(feat)\n", True),
        # a fallback value, or a use that checks the name first, or one that may not run
        ("try:\n    import feat\nexcept ImportError:\n    feat = Fallback\nfeat.run()\n", False),
        ("try:\n    import feat\nexcept ImportError:\n    from b import feat\nfeat.run()\n", False),
        ("try:\n    import feat\nexcept ImportError:\n    feat = None\nif feat:\n    feat.run()\n", False),
        ("try:\n    import feat\nexcept ImportError:\n    feat = None\nrun = lambda: feat.run()\n", False),
        ("try:\n    import feat\nexcept ImportError:\n    feat = None\ndef f():\n    feat.run()\n", False),
        ("try:\n    import feat\nexcept ImportError:\n    feat = None\nx = feat and feat.run()\n", False),
        ("try:\n    import feat\nexcept ImportError:\n    feat = None\nfeat = 1\n", False),  # a target, no use
        # the handler leaves: the rest runs only when the import worked
        ("try:\n    import feat\nexcept ImportError:\n    raise\nfeat.run()\n", False),
        ("try:\n    import a.b\nexcept ImportError:\n    a = None\na.b.run()\n", False),  # `import a.b` decides no name
        ("try:\n    import feat\nexcept ImportError:\n    feat = None\n", False),  # nothing after it
    ],
)
def test_used_after(source, comes_back):
    stmt, rest = split(source)
    assert used_after(stmt, rest) is comes_back


class _Context:
    module_names = frozenset({"ValueError2"})
    logger_names = frozenset()


@pytest.mark.parametrize(
    "body, raised",
    [
        ('raise RuntimeError("need feat") from error', {"RuntimeError"}),
        ('message = "x"\nraise ImportError(message)', {"ImportError"}),  # still an import failure
        ("raise ValueError(f'bad {error}')", {"Error"}),
        ("_fail()", {"?"}),  # a project function: anything
        ('warnings.warn("x")\nraise RuntimeError("y")', {"?"}),  # the warning may raise first
        ("raise MyError('x')", {"?"}),  # a class it does not know
        ("raise RuntimeError(describe(error))", {"?"}),  # the argument's call may raise
        ("sys.exit(1)", {"?"}),
    ],
)
def test_what_a_handler_that_does_not_complete_raises_instead(body, raised):
    statements = list(cst.parse_module(textwrap.dedent(body) + "\n").body)
    assert raised_instead(statements, _Context()) == raised


def test_a_handler_of_a_class_it_does_not_know_may_catch_what_was_raised_instead():
    assert handler_may_catch(handler("except ValueError"), ERRS) == {"RuntimeError", "Error"}
    assert handler_may_catch(handler("except ImportError"), ERRS) == {"ImportError"}
