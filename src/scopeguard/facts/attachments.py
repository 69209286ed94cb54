"""Names code attaches to other modules by a name it is handed (issue 26, item 5).

Two facts, both read on the `ast` view:

- a **namespace writer**: a module-level function that writes a name its caller chooses into a
  module namespace, `globals()[name] = value` or `setattr(module, name, value)` with `name` one of
  its parameters (TVM's `register_script_namespace(name, namespace)`). Its targets are its own
  module (for `globals()`/`sys.modules[__name__]`) and the dotted modules its body names in string
  literals (the `for m in ["pkg.a", "pkg.b"]: setattr(sys.modules.get(m), name, v)` pattern);
- an **attaching argument**: a call argument that is a loop variable whose values are all known
  strings: `for name, ns in namespaces().items(): register(name, ns)` where `namespaces()` is a
  function of the file returning dict literals with string keys, or a loop over a literal list,
  tuple, set or dict (directly or through a module-level name bound once). Literal arguments are
  in the call facts already.

analysis/attachments.py joins them: a scope that calls a writer attaches the names it passes to
the writer's targets, and code outside the scope that reads `target.name` breaks once it is gone.
"""

from __future__ import annotations

import ast
import re
import sys

from ..base.model import AttachFact
from .bindings import ImportBindings

_STDLIB = frozenset(sys.stdlib_module_names) | {"builtins"}
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def attachment_facts(tree: ast.Module, module: str, bindings: ImportBindings) -> dict:
    """The FileFacts field this pass fills: `attaches`."""
    found: list[AttachFact] = []
    returns = _dict_returning_functions(tree)
    constants = _module_constants(tree)
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += _writer(stmt, module)
    for context, node in _functions(tree):
        loops = _loop_values(node, returns, constants)
        if not loops:
            continue
        for call in _calls(node):
            callee = _callee(call.func, module, bindings, returns)
            if callee is None or callee.partition(".")[0] in _STDLIB:
                continue  # a writer is a project function
            for position, arg in enumerate(call.args):
                if isinstance(arg, ast.Name) and arg.id in loops:
                    found.append(AttachFact("argument", context, callee, call.lineno, call.col_offset + 1,
                                            position, tuple(loops[arg.id])))
    found.sort(key=lambda f: (f.line, f.column, f.position))
    return {"attaches": tuple(found)} if found else {}


def _writer(function, module: str) -> list[AttachFact]:
    """A module-level function writing a namespace by one of its parameters."""
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    found = []
    targets: list[str] = []
    own = False
    written: list[tuple[str, int]] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _DOTTED.fullmatch(node.value):
            targets.append(node.value)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Subscript) and _is_call(target.value, "globals")
                        and isinstance(target.slice, ast.Name) and target.slice.id in params):
                    written.append((target.slice.id, node.lineno))
                    own = True
        elif isinstance(node, ast.Call) and _is_call(node, "setattr") and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Name) and name.id in params:
                written.append((name.id, node.lineno))
                if _this_module(node.args[0]):
                    own = True
    seen = set()
    for param, line in written:
        if param in seen:
            continue
        seen.add(param)
        where = tuple(dict.fromkeys([*([module] if own else []), *targets]))
        if where:
            found.append(AttachFact("writer", function.name, param, line, 1, params.index(param), where))
    return found


def _is_call(node, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _this_module(node) -> bool:
    """`sys.modules[__name__]`."""
    return (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name) and node.slice.id == "__name__"
            and isinstance(node.value, ast.Attribute) and node.value.attr == "modules")


def _functions(tree: ast.Module):
    """(qualified context, node) for module level ("") and every function, methods as `C.m`."""
    yield "", tree

    def walk(body, prefix):
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{stmt.name}"
                yield name, stmt
                yield from walk(stmt.body, f"{name}.")
            elif isinstance(stmt, ast.ClassDef):
                yield from walk(stmt.body, f"{prefix}{stmt.name}.")
            elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                for field in ("body", "orelse", "finalbody"):
                    yield from walk(getattr(stmt, field, []) or [], prefix)
                for handler in getattr(stmt, "handlers", []):
                    yield from walk(handler.body, prefix)

    yield from walk(tree.body, "")


def _own(node):
    """The nodes of one context, not descending into nested functions, classes or lambdas."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        item = stack.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield item
        stack.extend(ast.iter_child_nodes(item))


def _calls(node):
    return [n for n in _own(node) if isinstance(n, ast.Call)]


def _callee(func, module: str, bindings: ImportBindings, returns) -> str | None:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    dotted = ".".join([func.id, *reversed(parts)])
    found = bindings.absolute(dotted)
    if found is not None:
        return found
    return f"{module}.{dotted}" if module else dotted


def _loop_values(node, returns: dict[str, list[str]], constants: dict[str, list[str]]) -> dict[str, list[str]]:
    """Loop variables of this context whose values are all known strings: name -> values."""
    found: dict[str, list[str]] = {}
    assigned: dict[str, int] = {}
    for item in _own(node):
        for target in _assigned(item):
            assigned[target] = assigned.get(target, 0) + 1
    for item in _own(node):
        if not isinstance(item, (ast.For, ast.AsyncFor)):
            continue
        values, first_of_pair = _iterated(item.iter, returns, constants)
        if values is None:
            continue
        target = item.target
        if first_of_pair:
            if not (isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name)):
                continue
            target = target.elts[0]
        if isinstance(target, ast.Name):
            found.setdefault(target.id, []).extend(values)
    # A name bound elsewhere in the context too may hold other values: not known.
    return {name: list(dict.fromkeys(values)) for name, values in found.items() if assigned.get(name, 0) == 1}


def _assigned(item) -> list[str]:
    targets = []
    if isinstance(item, (ast.For, ast.AsyncFor, ast.comprehension)):
        targets = [item.target]
    elif isinstance(item, ast.Assign):
        targets = item.targets
    elif isinstance(item, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
        targets = [item.target]
    elif isinstance(item, (ast.With, ast.AsyncWith)):
        targets = [w.optional_vars for w in item.items if w.optional_vars is not None]
    names = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


def _iterated(node, returns, constants) -> tuple[list[str] | None, bool]:
    """The strings a `for` loop's iterable yields (keys for a dict), and whether each item is a
    (key, value) pair (`.items()`); (None, False) when not all known."""
    pairs = False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args \
            and node.func.attr in ("items", "keys"):
        pairs = node.func.attr == "items"
        node = node.func.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args and not node.keywords:
        values = returns.get(node.func.id)
        return (list(values), pairs) if values is not None else (None, False)
    if isinstance(node, ast.Name):
        values = constants.get(node.id)
        return (list(values), pairs) if values is not None else (None, False)
    values = _literal_strings(node)
    return (values, pairs) if values is not None else (None, False)


def _literal_strings(node) -> list[str] | None:
    if isinstance(node, ast.Dict):
        items = node.keys
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = node.elts
    else:
        return None
    if not items or not all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in items):
        return None
    return [k.value for k in items]


def _dict_returning_functions(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level functions every `return` of which is a dict literal with string keys: name -> keys."""
    found = {}
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or isinstance(stmt, ast.AsyncFunctionDef):
            continue
        returns = sorted((n for n in _own(stmt) if isinstance(n, ast.Return)), key=lambda n: (n.lineno, n.col_offset))
        if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own(stmt)):
            continue
        keys: list[str] = []
        for ret in returns:
            if not isinstance(ret.value, ast.Dict):
                keys = []
                break
            values = _literal_strings(ret.value)
            if values is None:
                keys = []
                break
            keys += values
        if keys and returns:
            found[stmt.name] = list(dict.fromkeys(keys))
    return found


def _module_constants(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level names bound once, to a literal of strings, and never changed in the file."""
    bound: dict[str, int] = {}
    values: dict[str, list[str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            bound[name] = bound.get(name, 0) + 1
            literal = _literal_strings(stmt.value)
            if literal is not None:
                values[name] = literal
    changed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and isinstance(node.ctx, ast.Load) \
                and node.attr in ("append", "extend", "update", "add", "insert", "setdefault", "pop", "remove"):
            changed.add(node.value.id)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            changed.add(node.value.id)
        elif isinstance(node, ast.Global):
            changed.update(node.names)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            changed.add(node.target.id)
    return {name: v for name, v in values.items() if bound.get(name) == 1 and name not in changed}
