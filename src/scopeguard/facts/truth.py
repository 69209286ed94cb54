"""What can be known of a test's truth without running it: constant tests (`if False:`,
`sys.version_info >= (3,)`, combined by `not`/`and`/`or`/conditional expressions), the test a
`case` pattern stands for, and `for` loops over literals that surely run at least once. The guard
walk marks what such a test rules out as dead code.
"""

from __future__ import annotations

import libcst as cst

from .syntax import dotted_name

UNKNOWN = object()  # a test whose truth is not a constant


def can_be(test: cst.BaseExpression, truth: bool) -> bool:
    """False when `test` surely cannot evaluate to `truth`: constants (`if False:`, `while 0:`)
    combined by `not`, `and`, `or` and conditional expressions. Anything else may."""
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):  # `not not ...` deep
        test, truth = test.expression, not truth
    if isinstance(test, cst.BooleanOperation):
        kind = type(test.operator)
        operands: list[cst.BaseExpression] = []
        pending: list[cst.BaseExpression] = [test]
        while pending:
            part = pending.pop()
            if isinstance(part, cst.BooleanOperation) and isinstance(part.operator, kind):
                pending.append(part.right)
                pending.append(part.left)
            else:
                operands.append(part)
        if (kind is cst.And) == truth:  # every operand has this truth
            return all(can_be(o, truth) for o in operands)
        return any(can_be(o, truth) for o in operands)  # one operand has it
    if isinstance(test, cst.IfExp):  # `A if C else B`: C and A, or not C and B
        return any(can_be(test.test, condition) and can_be(value, truth)
                   for condition, value in ((True, test.body), (False, test.orelse)))
    constant = constant_truth(test)
    return constant is UNKNOWN or constant == truth

def runs_at_least_once(expr: cst.BaseExpression) -> bool:
    """A `for` over a non-empty literal or `range(n)` with literal bounds that is not empty."""
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return bool(expr.elements) and not any(isinstance(e, cst.StarredElement) for e in expr.elements)
    if isinstance(expr, cst.SimpleString):
        return bool(expr.evaluated_value)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "range":
        values = [a.value.evaluated_value if isinstance(a.value, cst.Integer) and a.keyword is None else None for a in expr.args]
        if None in values or not 1 <= len(values) <= 2:
            return False
        start, stop = (0, values[0]) if len(values) == 1 else values
        return stop > start
    return False


_PY3_RANGE = ((3, 0, 0, "alpha", 0), (999, 0, 0, "final", 0))
_COMPARE = {
    cst.LessThan: lambda a, b: a < b, cst.LessThanEqual: lambda a, b: a <= b,
    cst.GreaterThan: lambda a, b: a > b, cst.GreaterThanEqual: lambda a, b: a >= b,
    cst.Equal: lambda a, b: a == b, cst.NotEqual: lambda a, b: a != b,
}


def _literal(expr: cst.BaseExpression):
    if isinstance(expr, (cst.Integer, cst.SimpleString)):
        return expr.evaluated_value
    return UNKNOWN


def constant_truth(expr: cst.BaseExpression):
    """The truth of a constant test (`False`, `0`, `""`, `()`, `sys.version_info >= (3,)`), else UNKNOWN."""
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return expr.value == "True"
    if isinstance(expr, (cst.Integer, cst.Float)):
        return bool(expr.evaluated_value)
    if isinstance(expr, cst.SimpleString):
        return bool(expr.evaluated_value)
    if isinstance(expr, (cst.Tuple, cst.List, cst.Dict)) and not expr.elements:
        return False
    if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
        left, target = expr.left, expr.comparisons[0]
        compare = _COMPARE.get(type(target.operator))
        if compare is None:
            return UNKNOWN
        literals = [_literal(x) for x in (left, target.comparator)]
        if UNKNOWN not in literals and isinstance(target.operator, (cst.Equal, cst.NotEqual)):
            return compare(*literals)
        written = dotted_name(left)
        if written in ("sys.version_info", "version_info") and isinstance(target.comparator, cst.Tuple):
            items = [e.value.evaluated_value if isinstance(e.value, cst.Integer) else None for e in target.comparator.elements]
            if not items or None in items:
                return UNKNOWN
            lo, hi = (compare(v, tuple(items)) for v in _PY3_RANGE)
            return lo if lo == hi else UNKNOWN
        major = written in ("sys.version_info.major",) or (
            isinstance(left, cst.Subscript) and dotted_name(left.value) == "sys.version_info"
            and len(left.slice) == 1 and isinstance(left.slice[0].slice, cst.Index)
            and isinstance(left.slice[0].slice.value, cst.Integer) and left.slice[0].slice.value.evaluated_value == 0
        )
        if major and isinstance(target.comparator, cst.Integer):
            lo, hi = (compare(v[0], target.comparator.evaluated_value) for v in _PY3_RANGE)
            return lo if lo == hi else UNKNOWN
    return UNKNOWN


def _compare(left: cst.BaseExpression, operator, right: cst.BaseExpression) -> cst.Comparison:
    return cst.Comparison(left=left, comparisons=[cst.ComparisonTarget(operator=operator, comparator=right)])


def pattern_test(subject: cst.BaseExpression, pattern: cst.MatchPattern):
    """A test equivalent to `case pattern:` matching (None: it always matches; UNKNOWN: no test
    is known)."""
    if isinstance(pattern, cst.MatchAs):
        return None if pattern.pattern is None else pattern_test(subject, pattern.pattern)
    if isinstance(pattern, cst.MatchSingleton):
        return _compare(subject, cst.Is(), pattern.value)
    if isinstance(pattern, cst.MatchValue):
        return _compare(subject, cst.Equal(), pattern.value)
    if isinstance(pattern, cst.MatchOr):
        values = []
        for element in pattern.patterns:
            inner = element.pattern
            if isinstance(inner, cst.MatchAs) and inner.pattern is None:
                return None
            if not isinstance(inner, (cst.MatchSingleton, cst.MatchValue)):
                return UNKNOWN
            values.append(inner.value)
        return _compare(subject, cst.In(), cst.Tuple(elements=[cst.Element(value=v) for v in values]))
    return UNKNOWN
