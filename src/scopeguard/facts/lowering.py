"""The `ast` view of a file the running Python cannot parse, built from libcst's tree.

libcst's grammar is newer than some interpreters scopeguard runs under: `type X = int`, PEP 695
generics (`def f[T](x: T)`) and PEP 701 f-strings (`f"{d["k"]}"`) parse with libcst but raise
SyntaxError in Python 3.11's `ast`. The passes that read the `ast` view (positions, names, strings,
bindings) must not lose such a file, so its view is built here, node for node, as the newer
interpreter's `ast` would have it: same node types (stand-ins where 3.11 has none), same fields
the passes read, positions from libcst's PositionProvider in `ast` units (UTF-8 byte columns).

A node this module does not know raises LoweringError: the file is then reported as not analysed,
never silently thinner.
"""

from __future__ import annotations

import ast
import re
import sys

import libcst as cst


class LoweringError(Exception):
    def __init__(self, line: int, column: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.column, self.reason = line, column, reason


# Stand-ins for Python 3.12's nodes, with the same fields (ast.iter_fields and ast.walk read _fields).
def _node(name: str, base: type, fields: tuple[str, ...]) -> type:
    existing = getattr(ast, name, None)
    if existing is not None and all(f in existing._fields for f in fields):
        return existing
    return type(name, (existing or base,), {"_fields": fields})


TypeAlias = _node("TypeAlias", ast.stmt, ("name", "type_params", "value"))
TypeVar = _node("TypeVar", ast.AST, ("name", "bound", "default_value"))  # default_value: 3.13
ParamSpec = _node("ParamSpec", ast.AST, ("name", "default_value"))
TypeVarTuple = _node("TypeVarTuple", ast.AST, ("name", "default_value"))
FunctionDef = _node("FunctionDef", ast.stmt, (*ast.FunctionDef._fields, "type_params"))
AsyncFunctionDef = _node("AsyncFunctionDef", ast.stmt, (*ast.AsyncFunctionDef._fields, "type_params"))
TryStar = _node("TryStar", ast.stmt, ("body", "handlers", "orelse", "finalbody"))  # 3.11
ClassDef = _node("ClassDef", ast.stmt, (*ast.ClassDef._fields, "type_params"))

_BINARY = {
    cst.Add: ast.Add, cst.Subtract: ast.Sub, cst.Multiply: ast.Mult, cst.Divide: ast.Div,
    cst.FloorDivide: ast.FloorDiv, cst.Modulo: ast.Mod, cst.Power: ast.Pow, cst.MatrixMultiply: ast.MatMult,
    cst.LeftShift: ast.LShift, cst.RightShift: ast.RShift, cst.BitOr: ast.BitOr, cst.BitAnd: ast.BitAnd,
    cst.BitXor: ast.BitXor,
}
_AUGMENTED = {
    cst.AddAssign: ast.Add, cst.SubtractAssign: ast.Sub, cst.MultiplyAssign: ast.Mult, cst.DivideAssign: ast.Div,
    cst.FloorDivideAssign: ast.FloorDiv, cst.ModuloAssign: ast.Mod, cst.PowerAssign: ast.Pow,
    cst.MatrixMultiplyAssign: ast.MatMult, cst.LeftShiftAssign: ast.LShift, cst.RightShiftAssign: ast.RShift,
    cst.BitOrAssign: ast.BitOr, cst.BitAndAssign: ast.BitAnd, cst.BitXorAssign: ast.BitXor,
}
_UNARY = {cst.Not: ast.Not, cst.Minus: ast.USub, cst.Plus: ast.UAdd, cst.BitInvert: ast.Invert}
_COMPARE = {
    cst.Equal: ast.Eq, cst.NotEqual: ast.NotEq, cst.LessThan: ast.Lt, cst.LessThanEqual: ast.LtE,
    cst.GreaterThan: ast.Gt, cst.GreaterThanEqual: ast.GtE, cst.Is: ast.Is, cst.IsNot: ast.IsNot,
    cst.In: ast.In, cst.NotIn: ast.NotIn,
}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LOAD, _STORE, _DEL = ast.Load(), ast.Store(), ast.Del()


def lower(tree: cst.Module, source: bytes) -> ast.Module:
    """The `ast.Module` Python 3.12 would give for `source` (libcst's `tree` of it)."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    try:
        positions = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
        text = source.decode(tree.encoding)
        if text.startswith("\ufeff"):
            text = text[1:]
        return _Lowering(positions, _LINE_BREAK.split(text)).module(tree)
    except LoweringError:
        raise
    except RecursionError:
        raise LoweringError(1, 1, "an expression is nested too deeply to analyse (RecursionError)") from None
    except Exception as error:  # a shape not foreseen here: say so rather than guess
        version = ".".join(map(str, sys.version_info[:2]))
        raise LoweringError(1, 1, f"Python {version} cannot parse this file and scopeguard could not read "
                            f"libcst's tree of it ({type(error).__name__}: {error}); not analysed") from None


def lower_expression(node: cst.BaseExpression) -> ast.expr:
    """The `ast` of one libcst expression, without positions."""
    try:
        return _Lowering({}, []).expr(node)
    except RecursionError:
        raise LoweringError(1, 1, "an expression is nested too deeply to analyse (RecursionError)") from None
    except LoweringError:
        raise
    except Exception as error:
        raise LoweringError(1, 1, f"{type(error).__name__}: {error}") from None


class _Lowering:
    def __init__(self, positions, lines: list[str]) -> None:
        self.positions = positions
        self.lines = lines

    # positions

    def _column(self, line: int, column: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return len(text[:column].encode("utf-8"))

    def at(self, node: cst.CSTNode, result: ast.AST) -> ast.AST:
        where = self.positions.get(node)
        if where is not None:
            result.lineno, result.end_lineno = where.start.line, where.end.line
            result.col_offset = self._column(where.start.line, where.start.column)
            result.end_col_offset = self._column(where.end.line, where.end.column)
        return result

    def unknown(self, node: cst.CSTNode) -> LoweringError:
        where = self.positions.get(node)
        line, column = (where.start.line, where.start.column + 1) if where is not None else (1, 1)
        version = ".".join(map(str, sys.version_info[:2]))
        return LoweringError(line, column, f"Python {version} cannot parse this file and scopeguard cannot yet "
                             f"read libcst's {type(node).__name__} here; the file is not analysed: run "
                             "scopeguard under a Python that parses it")

    # statements

    def module(self, tree: cst.Module) -> ast.Module:
        return ast.Module(body=self.body(tree.body), type_ignores=[])

    def body(self, statements) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in statements:
            if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                out.extend(self.small(small) for small in stmt.body)
            else:
                out.append(self.compound(stmt))
        return out

    def suite(self, suite: cst.BaseSuite) -> list[ast.stmt]:
        return self.body(suite.body if isinstance(suite, cst.IndentedBlock) else [suite])

    def small(self, node: cst.CSTNode) -> ast.stmt:
        e = self.expr
        if isinstance(node, cst.Expr):
            out = ast.Expr(e(node.value))
        elif isinstance(node, cst.Assign):
            out = ast.Assign([e(t.target, _STORE) for t in node.targets], e(node.value), None)
        elif isinstance(node, cst.AnnAssign):
            simple = int(isinstance(node.target, cst.Name) and not node.target.lpar)
            value = e(node.value) if node.value is not None else None
            out = ast.AnnAssign(e(node.target, _STORE), e(node.annotation.annotation), value, simple)
        elif isinstance(node, cst.AugAssign):
            out = ast.AugAssign(e(node.target, _STORE), _AUGMENTED[type(node.operator)](), e(node.value))
        elif isinstance(node, cst.Del):
            target = node.target
            if isinstance(target, cst.Tuple) and not target.lpar:
                targets = [e(el.value, _DEL) for el in target.elements]
            else:
                targets = [e(target, _DEL)]
            out = ast.Delete(targets)
        elif isinstance(node, cst.Pass):
            out = ast.Pass()
        elif isinstance(node, cst.Break):
            out = ast.Break()
        elif isinstance(node, cst.Continue):
            out = ast.Continue()
        elif isinstance(node, cst.Return):
            out = ast.Return(e(node.value) if node.value is not None else None)
        elif isinstance(node, cst.Raise):
            out = ast.Raise(e(node.exc) if node.exc is not None else None,
                            e(node.cause.item) if node.cause is not None else None)
        elif isinstance(node, cst.Assert):
            out = ast.Assert(e(node.test), e(node.msg) if node.msg is not None else None)
        elif isinstance(node, cst.Global):
            out = ast.Global([n.name.value for n in node.names])
        elif isinstance(node, cst.Nonlocal):
            out = ast.Nonlocal([n.name.value for n in node.names])
        elif isinstance(node, cst.Import):
            out = ast.Import([self.alias(a) for a in node.names])
        elif isinstance(node, cst.ImportFrom):
            if isinstance(node.names, cst.ImportStar):
                names = [self.at(node.names, ast.alias("*", None))]
            else:
                names = [self.alias(a) for a in node.names]
            module = _dotted(node.module) if node.module is not None else None
            out = ast.ImportFrom(module, names, len(node.relative))
        elif isinstance(node, getattr(cst, "TypeAlias", ())):
            out = TypeAlias(e(node.name, _STORE), self.type_params(node.type_parameters), e(node.value))
        else:
            raise self.unknown(node)
        return self.at(node, out)

    def alias(self, alias: cst.ImportAlias) -> ast.alias:
        asname = alias.asname.name.value if alias.asname is not None else None
        return self.at(alias, ast.alias(_dotted(alias.name), asname))

    def compound(self, node: cst.CSTNode) -> ast.stmt:
        e, suite = self.expr, self.suite
        if isinstance(node, cst.If):
            out = ast.If(e(node.test), suite(node.body), self.orelse(node.orelse))
        elif isinstance(node, cst.For):
            kind = ast.AsyncFor if node.asynchronous is not None else ast.For
            out = kind(e(node.target, _STORE), e(node.iter), suite(node.body), self.orelse(node.orelse), None)
        elif isinstance(node, cst.While):
            out = ast.While(e(node.test), suite(node.body), self.orelse(node.orelse))
        elif isinstance(node, cst.With):
            items = [
                ast.withitem(e(i.item), e(i.asname.name, _STORE) if i.asname is not None else None)
                for i in node.items
            ]
            kind = ast.AsyncWith if node.asynchronous is not None else ast.With
            out = kind(items, suite(node.body), None)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            handlers = [
                self.at(h, ast.ExceptHandler(
                    e(h.type) if h.type is not None else None,
                    h.name.name.value if h.name is not None else None,
                    suite(h.body),
                ))
                for h in node.handlers
            ]
            finalbody = suite(node.finalbody.body) if node.finalbody is not None else []
            kind = ast.Try if isinstance(node, cst.Try) else TryStar
            out = kind(suite(node.body), handlers, self.orelse(node.orelse), finalbody)
        elif isinstance(node, cst.FunctionDef):
            kind = AsyncFunctionDef if node.asynchronous is not None else FunctionDef
            out = kind(
                name=node.name.value, args=self.parameters(node.params), body=suite(node.body),
                decorator_list=[e(d.decorator) for d in node.decorators],
                returns=e(node.returns.annotation) if node.returns is not None else None,
                type_comment=None, type_params=self.type_params(getattr(node, "type_parameters", None)),
            )
        elif isinstance(node, cst.ClassDef):
            bases = [e(a.value) if a.star != "*" else ast.Starred(e(a.value), _LOAD)
                     for a in node.bases if a.keyword is None and a.star != "**"]
            keywords = [ast.keyword(a.keyword.value if a.keyword is not None else None, e(a.value))
                        for a in [*node.bases, *node.keywords] if a.keyword is not None or a.star == "**"]
            out = ClassDef(
                name=node.name.value, bases=bases, keywords=keywords, body=suite(node.body),
                decorator_list=[e(d.decorator) for d in node.decorators],
                type_params=self.type_params(getattr(node, "type_parameters", None)),
            )
        elif isinstance(node, cst.Match):
            # Patterns bind names as strings and are never read by the passes: a wildcard stands in.
            cases = [ast.match_case(ast.MatchAs(None, None), e(c.guard) if c.guard is not None else None,
                                    suite(c.body)) for c in node.cases]
            out = ast.Match(e(node.subject), cases)
        else:
            raise self.unknown(node)
        return self.at(node, out)

    def orelse(self, orelse) -> list[ast.stmt]:
        if orelse is None:
            return []
        if isinstance(orelse, cst.If):  # elif
            return [self.compound(orelse)]
        return self.suite(orelse.body)

    def type_params(self, params) -> list[ast.AST]:
        if params is None:
            return []
        out = []
        for item in params.params:
            param = item.param
            default = getattr(item, "default", None)
            default = self.expr(default) if default is not None else None
            if isinstance(param, cst.TypeVar):
                bound = self.expr(param.bound) if param.bound is not None else None
                out.append(self.at(item, TypeVar(name=param.name.value, bound=bound, default_value=default)))
            elif isinstance(param, cst.ParamSpec):
                out.append(self.at(item, ParamSpec(name=param.name.value, default_value=default)))
            elif isinstance(param, cst.TypeVarTuple):
                out.append(self.at(item, TypeVarTuple(name=param.name.value, default_value=default)))
            else:
                raise self.unknown(param)
        return out

    def parameters(self, params: cst.Parameters) -> ast.arguments:
        def arg(param: cst.Param) -> ast.arg:
            annotation = self.expr(param.annotation.annotation) if param.annotation is not None else None
            return self.at(param, ast.arg(param.name.value, annotation, None))

        positional = [*params.posonly_params, *params.params]
        star = params.star_arg if isinstance(params.star_arg, cst.Param) else None
        kwarg = params.star_kwarg
        return ast.arguments(
            posonlyargs=[arg(p) for p in params.posonly_params],
            args=[arg(p) for p in params.params],
            vararg=arg(star) if star is not None else None,
            kwonlyargs=[arg(p) for p in params.kwonly_params],
            kw_defaults=[self.expr(p.default) if p.default is not None else None for p in params.kwonly_params],
            kwarg=arg(kwarg) if kwarg is not None else None,
            defaults=[self.expr(p.default) for p in positional if p.default is not None],
        )

    # expressions

    def expr(self, node: cst.BaseExpression, ctx: ast.expr_context = _LOAD) -> ast.expr:
        return self.at(node, self._expr(node, ctx))

    def _expr(self, node: cst.BaseExpression, ctx: ast.expr_context) -> ast.expr:
        e = self.expr
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return ast.Constant({"True": True, "False": False, "None": None}[node.value])
            return ast.Name(node.value, ctx)
        if isinstance(node, cst.Attribute):
            return ast.Attribute(e(node.value), node.attr.value, ctx)
        if isinstance(node, cst.Subscript):
            elements = node.slice
            if len(elements) == 1 and elements[0].comma is cst.MaybeSentinel.DEFAULT:
                index = self.slice(elements[0].slice)
            else:
                index = ast.Tuple([self.slice(el.slice) for el in elements], _LOAD)
                first, last = elements[0], elements[-1]
                start, end = self.positions.get(first), self.positions.get(last)
                if start is not None and end is not None:
                    index.lineno, index.end_lineno = start.start.line, end.end.line
                    index.col_offset = self._column(start.start.line, start.start.column)
                    index.end_col_offset = self._column(end.end.line, end.end.column)
            return ast.Subscript(e(node.value), index, ctx)
        if isinstance(node, cst.Call):
            args, keywords = [], []
            for a in node.args:
                if a.keyword is not None:
                    keywords.append(self.at(a, ast.keyword(a.keyword.value, e(a.value))))
                elif a.star == "**":
                    keywords.append(self.at(a, ast.keyword(None, e(a.value))))
                elif a.star == "*":
                    args.append(self.at(a, ast.Starred(e(a.value), _LOAD)))
                else:
                    args.append(e(a.value))
            return ast.Call(e(node.func), args, keywords)
        if isinstance(node, cst.BinaryOperation):
            return ast.BinOp(e(node.left), _BINARY[type(node.operator)](), e(node.right))
        if isinstance(node, cst.BooleanOperation):
            # `a and b and c` is one BoolOp in `ast` (libcst nests to the left); `(a and b) and c` is two.
            values, part = [], node
            while isinstance(part, cst.BooleanOperation) and type(part.operator) is type(node.operator) and (
                part is node or not part.lpar
            ):
                values.append(part.right)
                part = part.left
            values.append(part)
            op = ast.And if isinstance(node.operator, cst.And) else ast.Or
            return ast.BoolOp(op(), [e(v) for v in reversed(values)])
        if isinstance(node, cst.UnaryOperation):
            return ast.UnaryOp(_UNARY[type(node.operator)](), e(node.expression))
        if isinstance(node, cst.Comparison):
            return ast.Compare(e(node.left), [_COMPARE[type(c.operator)]() for c in node.comparisons],
                               [e(c.comparator) for c in node.comparisons])
        if isinstance(node, cst.IfExp):
            return ast.IfExp(e(node.test), e(node.body), e(node.orelse))
        if isinstance(node, cst.Lambda):
            return ast.Lambda(self.parameters(node.params), e(node.body))
        if isinstance(node, cst.NamedExpr):
            return ast.NamedExpr(e(node.target, _STORE), e(node.value))
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            elts = [
                self.at(el, ast.Starred(e(el.value, ctx), ctx)) if isinstance(el, cst.StarredElement) else e(el.value, ctx)
                for el in node.elements
            ]
            if isinstance(node, cst.Set):
                return ast.Set(elts)
            return (ast.Tuple if isinstance(node, cst.Tuple) else ast.List)(elts, ctx)
        if isinstance(node, cst.Dict):
            keys, values = [], []
            for el in node.elements:
                keys.append(e(el.key) if isinstance(el, cst.DictElement) else None)
                values.append(e(el.value))
            return ast.Dict(keys, values)
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            kind = {cst.ListComp: ast.ListComp, cst.SetComp: ast.SetComp, cst.GeneratorExp: ast.GeneratorExp}[type(node)]
            return kind(e(node.elt), self.comprehensions(node.for_in))
        if isinstance(node, cst.DictComp):
            return ast.DictComp(e(node.key), e(node.value), self.comprehensions(node.for_in))
        if isinstance(node, cst.Await):
            return ast.Await(e(node.expression))
        if isinstance(node, cst.Yield):
            if isinstance(node.value, cst.From):
                return ast.YieldFrom(e(node.value.item))
            return ast.Yield(e(node.value) if node.value is not None else None)
        if isinstance(node, cst.Ellipsis):
            return ast.Constant(...)
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
            return ast.Constant(node.evaluated_value)
        if isinstance(node, cst.SimpleString):
            return ast.Constant(node.evaluated_value)
        if isinstance(node, (cst.ConcatenatedString, cst.FormattedString)):
            return self.string(node)
        if isinstance(node, cst.StarredElement):
            return ast.Starred(e(node.value, ctx), ctx)
        raise self.unknown(node)

    def slice(self, node: cst.BaseSlice) -> ast.expr:
        if isinstance(node, cst.Index):
            value = self.expr(node.value)
            if node.star is not None:
                value = ast.Starred(value, _LOAD)
            return value
        if isinstance(node, cst.Slice):
            part = lambda x: self.expr(x) if x is not None else None  # noqa: E731
            return self.at(node, ast.Slice(part(node.lower), part(node.upper), part(node.step)))
        raise self.unknown(node)

    def comprehensions(self, comp: cst.CompFor | None) -> list[ast.comprehension]:
        out = []
        while comp is not None:
            out.append(ast.comprehension(
                self.expr(comp.target, _STORE), self.expr(comp.iter), [self.expr(i.test) for i in comp.ifs],
                int(comp.asynchronous is not None),
            ))
            comp = comp.inner_for_in
        return out

    # strings: what CPython's parser makes of literals, implicit concatenation and f-strings

    def string(self, node: cst.BaseExpression) -> ast.expr:
        parts: list[cst.BaseExpression] = []
        pending = [node]
        while pending:  # flatten `"a" f"b" "c"` in source order
            part = pending.pop()
            if isinstance(part, cst.ConcatenatedString) and not (part is not node and part.lpar):
                pending.extend((part.right, part.left))
            else:
                parts.append(part)
        if not any(isinstance(p, cst.FormattedString) for p in parts):
            value = parts[0].evaluated_value if isinstance(parts[0], cst.SimpleString) else None
            for p in parts[1:]:
                value = value + p.evaluated_value
            return ast.Constant(value)
        values: list[ast.expr] = []
        for p in parts:
            if isinstance(p, cst.SimpleString):
                _append_text(values, p.evaluated_value)
            elif isinstance(p, cst.FormattedString):
                for v in self.fstring_parts(p.parts, p.prefix, p.start[len(p.prefix):]):
                    if isinstance(v, ast.Constant):
                        _append_text(values, v.value)
                    else:
                        values.append(v)
            else:
                raise self.unknown(p)
        return ast.JoinedStr(values)

    def fstring_parts(self, parts, prefix: str, quote: str) -> list[ast.expr]:
        out: list[ast.expr] = []
        literal_prefix = "".join(c for c in prefix if c not in "fF")
        for part in parts:
            if isinstance(part, cst.FormattedStringText):
                text = _unescape(part.value.replace("{{", "{").replace("}}", "}"), literal_prefix, quote)
                _append_text(out, text)
            elif isinstance(part, cst.FormattedStringExpression):
                conversion = ord(part.conversion) if part.conversion is not None else -1
                if getattr(part, "equal", None) is not None:  # f"{x=}": the text, then repr by default
                    _append_text(out, cst.Module(body=[]).code_for_node(part.expression) + "=")
                    if conversion == -1 and part.format_spec is None:
                        conversion = ord("r")
                spec = None
                if part.format_spec is not None:
                    spec = self.at(part, ast.JoinedStr(self.fstring_parts(part.format_spec, prefix, quote)))
                out.append(self.at(part, ast.FormattedValue(self.expr(part.expression), conversion, spec)))
            else:
                raise self.unknown(part)
        return out


def _append_text(values: list[ast.expr], text: str) -> None:
    """CPython merges adjacent text of a JoinedStr into one Constant and drops empty text."""
    if not text:
        return
    if values and isinstance(values[-1], ast.Constant):
        values[-1] = ast.Constant(values[-1].value + text)
    else:
        values.append(ast.Constant(text))


def _unescape(text: str, prefix: str, quote: str) -> str:
    """The value of an f-string's text part: the same text as a plain literal with its quotes."""
    if "\\" not in text:
        return text
    return cst.SimpleString(prefix + quote + text + quote).evaluated_value


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    raise TypeError(f"not a dotted name: {type(node).__name__}")
