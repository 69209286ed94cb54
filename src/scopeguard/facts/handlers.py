"""Handlers: which exceptions a `try/except` or `contextlib.suppress(...)` catches, by the names
it catches (through module-level aliases such as `_ERRS = (ImportError, OSError)`), and whether a
failed import it swallows comes back anyway (a name it imports, left None or unbound by the
handlers, used for sure right after). The guard walk turns a handler that makes an import's failure
survivable into an OPTIONAL guard, and one that catches a registry lookup's error into TOLERANT.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from .syntax import block_statements, dotted_name, last_name, last_small_statement

# Exception names whose handler catches a failed import.
IMPORT_ERROR_CATCHERS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
# What deleting a module can raise at an import site, by the handler names that catch it (see
# analysis.verdicts.failure): Exception and a bare except catch all of them.
# An import's failure may also reach a handler turned into another exception (a handler inside
# that raises, Python < 3.12 wrapping an error of `__set_name__`): "RuntimeError", "Error" (some
# other subclass of Exception: `raise ValueError(...)`) and "?" (anything at all: a project
# function's error, SystemExit, a warning turned error), which only `BaseException` or a bare
# `except` is sure to catch.
CATCHES = {
    "ImportError": frozenset({"ImportError"}),
    "ModuleNotFoundError": frozenset({"ModuleNotFoundError"}),
    "AttributeError": frozenset({"AttributeError"}),
    "RuntimeError": frozenset({"RuntimeError"}),
    "Exception": frozenset({"ImportError", "AttributeError", "RuntimeError", "Error"}),
    "BaseException": frozenset({"ImportError", "AttributeError", "RuntimeError", "Error", "?"}),
}
CATCH_ALL = CATCHES["BaseException"]
# What `raise NAME(...)` of a builtin exception raises, by the token above (anything else: "?").
RAISED = {
    "ImportError": "ImportError", "ModuleNotFoundError": "ModuleNotFoundError", "AttributeError": "AttributeError",
    "RuntimeError": "RuntimeError", **dict.fromkeys((
        "Exception", "ValueError", "TypeError", "KeyError", "LookupError", "IndexError", "OSError", "IOError",
        "EnvironmentError", "NotImplementedError", "AssertionError", "NameError", "FileNotFoundError",
        "PermissionError", "ArithmeticError", "ZeroDivisionError", "UnicodeError"), "Error"),
}
# A converter's `catches` marks what may leave in place of what it caught with this prefix.
OUTCOME = "->"
# What a registry lookup of a missing name raises, with their bases (tvm_ffi: ValueError; older
# TVM: RuntimeError/TVMError; AttributeError for a missing attribute of a module).
LOOKUP_ERROR_CATCHERS = frozenset({"ValueError", "RuntimeError", "TVMError", "LookupError", "KeyError", "AttributeError"})
# Context managers known never to swallow an exception from their body; after any other, a `raise`
# in the body may be suppressed and what follows the `with` may run.
NON_SUPPRESSING = frozenset({
    "nullcontext", "open", "catch_warnings", "TemporaryDirectory", "NamedTemporaryFile", "redirect_stdout",
    "redirect_stderr", "chdir", "Lock", "RLock", "no_grad", "enable_grad", "inference_mode", "scandir",
})


def handler_catches(handler: cst.ExceptHandler, error_names: dict) -> set[str]:
    """What deleting a module can raise that `handler` catches (keys of CATCHES' values); a bare
    `except` catches all of it. `error_names`: file_context.WalkContext.error_names."""
    if handler.type is None:
        return set(CATCH_ALL)
    types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    caught: set[str] = set()
    for t in types:
        name = last_name(t)
        if isinstance(t, cst.Name) and name in error_names:
            names = error_names[name]
        else:
            names = (name,)
        for n in names:
            caught |= CATCHES.get(n or "", frozenset())
    return caught


def handler_may_catch(handler: cst.ExceptHandler, error_names: dict) -> set[str]:
    """What `handler` may catch (tokens of CATCHES' values): what it surely catches, and, for a class
    it does not know (`except ValueError`, a project's error class), another error ("RuntimeError",
    "Error") that an inner handler or `__set_name__` may have raised instead of the failure."""
    caught = handler_catches(handler, error_names)
    types = [] if handler.type is None else (
        [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type])
    for t in types:
        name = last_name(t)
        names = error_names.get(name, (name,)) if isinstance(t, cst.Name) else (name,)
        if any((n or "") not in CATCHES for n in names):
            caught |= {"RuntimeError", "Error"}
    return caught


def suppresses(expr: cst.BaseExpression, suppress_names: frozenset[str], error_names: dict) -> set[str]:
    """What a `with` item `contextlib.suppress(...)` (by any local name in `suppress_names`)
    catches of what deleting a module can raise; nothing for any other context manager."""
    if not isinstance(expr, cst.Call):
        return set()
    func = expr.func
    if not (last_name(func) == "suppress" or (isinstance(func, cst.Name) and func.value in suppress_names)):
        return set()
    caught: set[str] = set()
    for arg in expr.args:
        name = last_name(arg.value)
        names = error_names.get(name, (name,)) if isinstance(arg.value, cst.Name) else (name,)
        for n in names:
            caught |= CATCHES.get(n or "", frozenset())
    return caught


def catches_one_of(handler: cst.ExceptHandler, names: frozenset[str], bare: bool) -> bool:
    if handler.type is None:
        return bare
    types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    return any(last_name(t) in names for t in types)


def _imported_names(statements: Sequence[cst.CSTNode]) -> set[str]:
    names: set[str] = set()
    for stmt in statements:
        if not isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    # `import a.b` binds `a`, usually bound before: not a name this import decides
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    if isinstance(bound, cst.Name):
                        names.add(bound.value)
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    if isinstance(bound, cst.Name):
                        names.add(bound.value)
    return names


def _binding(bodies, name: str) -> str:
    """What the handlers (their bodies) leave `name` bound to: "fallback" when every one binds it
    to something other than None, "unbound" when one binds nothing, else "none"."""
    worst = "fallback"
    for body in bodies:
        found = "unbound"
        for stmt in block_statements(body):
            if not isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets):
                    found = "none" if isinstance(small.value, cst.Name) and small.value.value == "None" else "fallback"
                elif isinstance(small, (cst.Import, cst.ImportFrom)) and name in _imported_names([stmt]):
                    found = "fallback"
        if found == "unbound":
            return "unbound"
        if found == "none":
            worst = "none"
    return worst


class _UseFinder(cst.CSTVisitor):
    """Finds `name.attr`, `name(...)` or `name[...]` evaluated for sure where it is written: not
    under a test that mentions the name, not in a lambda, function, conditional expression or
    `and`/`or` operand, not in a `try`."""

    def __init__(self, names: set[str], unbound: set[str]) -> None:
        self.names = names | unbound
        self.unbound = unbound  # no value at all: any use fails (NameError)
        self.found = False

    def _mentions(self, node: cst.CSTNode) -> bool:
        finder = _NameFinder(self.names)
        node.visit(finder)
        return finder.found

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.found or isinstance(node, (cst.Lambda, cst.IfExp, cst.BooleanOperation, cst.Try, cst.TryStar,
                                           cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal, cst.Del)):
            return False
        if isinstance(node, cst.FunctionDef):  # its decorators and defaults run now, not its body
            for part in (*node.decorators, node.params):
                part.visit(self)
            return False
        if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)) and node.value is not None:
            node.value.visit(self)  # a target is no use
            return False
        if isinstance(node, (cst.If, cst.While)) and self._mentions(node.test):
            return False
        if isinstance(node, cst.Name) and node.value in self.unbound:
            self.found = True
            return False
        value = (
            node.value if isinstance(node, (cst.Attribute, cst.Subscript)) else node.func if isinstance(node, cst.Call) else None
        )
        if isinstance(value, cst.Name) and value.value in self.names:
            self.found = True
            return False
        return True


class _NameFinder(cst.CSTVisitor):
    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names:
            self.found = True


def used_after(stmt: cst.CSTNode, rest: Sequence[cst.CSTNode]) -> bool:
    """A name the try (or `with suppress(...)`) imports, left None or unbound by its handlers, is
    used for sure later in the same block: the failure swallowed comes back as an error there."""
    if not rest:
        return False
    if isinstance(stmt, (cst.Try, cst.TryStar)):  # the handlers after which the rest runs
        bodies = [h.body for h in stmt.handlers
                  if not isinstance(last_small_statement(block_statements(h.body)), (cst.Return, cst.Raise, cst.Continue, cst.Break))]
    else:
        bodies = [cst.IndentedBlock(body=[])]
    states = {n: _binding(bodies, n) for n in _imported_names(block_statements(stmt.body))}
    names = {n for n, state in states.items() if state == "none"}
    unbound = {n for n, state in states.items() if state == "unbound"}
    if not names and not unbound:
        return False
    finder = _UseFinder(names, unbound)
    for later in rest:
        later.visit(finder)
        if finder.found:
            return True
    return False


def non_suppressing(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and last_name(expr.func) in NON_SUPPRESSING



# --- does a handler provably complete? (issue 24) ---------------------------------------------------
#
# A handler makes a failed import survivable only if it runs to its end (or leaves by `return`,
# `break` or `continue`) whatever happens. The closed set of what is known to complete:
#   statements  `pass`, `global`/`nonlocal`, `return`/`break`/`continue`, `del NAME`, `import`/`from`
#               and `importlib.import_module(...)`/`__import__(...)` (a fallback import is an import
#               site of its own, judged where it stands), assignment
#               to names or attributes of names (not augmented, not unpacking), `if` with known
#               parts, `def` without decorators (defaults and annotations known expressions),
#               `class` without decorators, keywords or bases other than `object`, a nested `try`
#               all of whose parts complete, and expression statements of the expressions below;
#   expressions literals (f-strings included), names, attributes of names, containers, `not`,
#               comparisons and `and`/`or` of known expressions, lambdas, `+` of strings (literals,
#               f-strings, `str(x)`, `repr(x)`), and calls of:
#   calls       `print` (not rebound by the file), `str`/`repr`/`isinstance`/`type`/`id`/`bool` on
#               known arguments, and the logging calls (`debug` ... `exception`, `log`) of the
#               `logging` module or a module-level `NAME = logging.getLogger(...)`: logging reports
#               its own errors (Handler.handleError) and does not raise by default.
# Everything else does not complete: `raise`, `assert`, any other call (a project function, an
# exit call, `warnings.warn`, which raises under an "error" filter), `with`, loops, augmented
# assignment, other arithmetic, subscripts, method calls (`items.append(x)`).

LOGGING_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})
SAFE_BUILTINS = frozenset({"print", "str", "repr", "isinstance", "type", "id", "bool"})
_SAFE_BASES = frozenset({"object"})


def completes(statements: Sequence[cst.CSTNode], context) -> bool:
    """Every statement of a handler (or `finally`) is in the closed set known to complete.
    `context`: file_context.WalkContext (module-level names, logger names)."""
    return all(_stmt_completes(stmt, context) for stmt in statements)


def reraises_unchanged(statements: Sequence[cst.CSTNode], context) -> bool:
    """The handler completes up to a final bare `raise`: the same exception goes on (an enclosing
    handler of it still catches it)."""
    if not statements:
        return False
    last = statements[-1]
    if not isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) or not last.body:
        return False
    final = last.body[-1]
    if not (isinstance(final, cst.Raise) and final.exc is None):
        return False
    return completes(statements[:-1], context) and all(_small_completes(s, context) for s in last.body[:-1])


def _stmt_completes(stmt: cst.CSTNode, context) -> bool:
    if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return all(_small_completes(small, context) for small in stmt.body)
    if isinstance(stmt, cst.If):
        if not _expr_completes(stmt.test, context) or not completes(block_statements(stmt.body), context):
            return False
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            return _stmt_completes(orelse, context)
        return orelse is None or completes(block_statements(orelse.body), context)
    if isinstance(stmt, cst.FunctionDef):
        if stmt.decorators:
            return False
        params = stmt.params
        for param in (*params.params, *params.posonly_params, *params.kwonly_params):
            if param.default is not None and not _expr_completes(param.default, context):
                return False
        return True
    if isinstance(stmt, cst.ClassDef):
        if stmt.decorators or stmt.keywords:
            return False
        if any(not (isinstance(b.value, cst.Name) and b.value.value in _SAFE_BASES) or b.star for b in stmt.bases):
            return False
        return completes(block_statements(stmt.body), context)
    if isinstance(stmt, cst.Try):
        parts = [stmt.body, *(h.body for h in stmt.handlers)]
        parts += [p.body for p in (stmt.orelse, stmt.finalbody) if p is not None]
        return all(completes(block_statements(part), context) for part in parts)
    return False


def _small_completes(small: cst.CSTNode, context) -> bool:
    if isinstance(small, (cst.Pass, cst.Global, cst.Nonlocal, cst.Break, cst.Continue, cst.Import, cst.ImportFrom)):
        return True
    if isinstance(small, cst.Return):
        return small.value is None or _expr_completes(small.value, context)
    if isinstance(small, cst.Del):
        return isinstance(small.target, cst.Name)
    if isinstance(small, cst.Expr):
        return _expr_completes(small.value, context)
    if isinstance(small, cst.Assign):
        return all(_target_completes(t.target) for t in small.targets) and _expr_completes(small.value, context)
    if isinstance(small, cst.AnnAssign):
        return _target_completes(small.target) and (small.value is None or _expr_completes(small.value, context))
    return False


def _target_completes(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Name) or (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name))


def _expr_completes(expr: cst.BaseExpression, context) -> bool:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.Imaginary,
                         cst.Name, cst.Ellipsis)):
        return True
    if isinstance(expr, cst.FormattedString):
        return all(_expr_completes(p.expression, context) for p in expr.parts if isinstance(p, cst.FormattedStringExpression))
    if isinstance(expr, cst.Attribute):
        return isinstance(expr.value, cst.Name) or (isinstance(expr.value, cst.Attribute) and _expr_completes(expr.value, context))
    if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        return all(isinstance(e, cst.Element) and _expr_completes(e.value, context) for e in expr.elements)
    if isinstance(expr, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _expr_completes(e.key, context) and _expr_completes(e.value, context)
                   for e in expr.elements)
    if isinstance(expr, cst.UnaryOperation):
        return isinstance(expr.operator, cst.Not) and _expr_completes(expr.expression, context)
    if isinstance(expr, cst.BooleanOperation):
        return _expr_completes(expr.left, context) and _expr_completes(expr.right, context)
    if isinstance(expr, cst.Comparison):
        return _expr_completes(expr.left, context) and all(_expr_completes(c.comparator, context) for c in expr.comparisons)
    if isinstance(expr, cst.Lambda):
        return all(p.default is None or _expr_completes(p.default, context) for p in expr.params.params)
    if isinstance(expr, cst.Call):
        return _call_completes(expr, context)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return _stringy(expr.left, context) and _stringy(expr.right, context)  # "msg: " + str(error)
    return False


def _stringy(expr: cst.BaseExpression, context) -> bool:
    """A str for sure: a literal, an f-string, `str(...)`/`repr(...)`, or `+` of them."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return _expr_completes(expr, context)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("str", "repr"):
        return _call_completes(expr, context)
    return isinstance(expr, cst.BinaryOperation) and _expr_completes(expr, context)


# A fallback import by call, like a fallback `import` statement: an import site of its own.
FALLBACK_IMPORT_CALLS = frozenset({"importlib.import_module", "import_module", "__import__"})


def _call_completes(call: cst.Call, context) -> bool:
    if not all(_expr_completes(a.value, context) for a in call.args):
        return False
    func = call.func
    if dotted_name(func) in FALLBACK_IMPORT_CALLS:
        return True
    if isinstance(func, cst.Name):
        return func.value in SAFE_BUILTINS and func.value not in context.module_names
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        return func.attr.value in LOGGING_METHODS and func.value.value in context.logger_names
    return False


# --- what a handler that does not complete raises instead (issue 24) ------------------------------


def raised_instead(statements: Sequence[cst.CSTNode], context) -> frozenset[str]:
    """What a handler that does not complete may raise in place of the failure it caught (tokens
    of CATCHES' values): the builtin exception of a final `raise NAME(...)` / `raise NAME(...) from
    e` after statements that complete, else anything ("?": a call that may raise, an exit, a
    warning turned error)."""
    if statements:
        last = statements[-1]
        if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) and last.body:
            final = last.body[-1]
            if isinstance(final, cst.Raise) and final.exc is not None and completes(statements[:-1], context) \
                    and all(_small_completes(s, context) for s in last.body[:-1]):
                exc = final.exc
                args_ok = True
                if isinstance(exc, cst.Call):
                    args_ok = all(_expr_completes(a.value, context) for a in exc.args)
                    exc = exc.func
                cause_ok = final.cause is None or isinstance(final.cause.item, cst.Name)
                if isinstance(exc, cst.Name) and exc.value in RAISED and exc.value not in context.module_names \
                        and args_ok and cause_ok:
                    return frozenset({RAISED[exc.value]})
    return frozenset({"?"})


def converter_catches(caught: set[str], outcomes: set[str]) -> frozenset[str]:
    """A CONVERTS guard's `catches`: what it catches, and OUTCOME + what may leave instead."""
    return frozenset(caught) | frozenset(OUTCOME + o for o in outcomes)
