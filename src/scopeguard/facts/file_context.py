"""The file-wide facts the guard walk needs besides the statement at hand (WalkContext): the
spellings of calls that exit (`sys.exit` through any alias), module-level names bound to exception
types, the local names of contextlib.suppress, and every name bound at module level. Read from the
file's import bindings and its `ast` before the walk starts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .astnodes import dotted as _dotted_ast

# Calls that end the current block as surely as `raise` does, by module; `exit`/`quit` are the
# builtins unless the file binds those names itself.
EXIT_FUNCTIONS = {"sys": ("exit",), "os": ("_exit", "abort"), "pytest": ("skip", "fail", "exit")}
EXIT_CALLS = frozenset(f"{m}.{f}" for m, names in EXIT_FUNCTIONS.items() for f in names) | {"exit", "quit"}


@dataclass(frozen=True)
class WalkContext:
    """What the walk needs to know about the file besides the statement at hand: the spellings of
    calls that exit (`sys.exit` through any alias), module-level names bound to exception types
    (`_ERRS = (ImportError, OSError)`), and the local names of contextlib.suppress."""

    exit_calls: frozenset[str] = EXIT_CALLS
    error_names: dict = field(default_factory=dict)
    suppress_names: frozenset[str] = frozenset({"suppress"})
    module_names: frozenset[str] = frozenset()  # every name bound at module level (`def eval(...)`)
    # Names whose logging calls a handler may make and still complete (handlers.completes): the
    # `logging` module's local names and module-level `NAME = logging.getLogger(...)`, bound once.
    logger_names: frozenset[str] = frozenset()


def walk_context(bindings, tree: ast.Module | None) -> WalkContext:
    """The WalkContext of a file from its import bindings (bindings.ImportBindings) and the module-
    level statements of its `ast`."""
    exits = {f"{m}.{f}" for m, names in EXIT_FUNCTIONS.items() for f in names}
    for module, names in EXIT_FUNCTIONS.items():
        for local in bindings.names_for(module):
            exits.update(f"{local}.{f}" for f in names)
        for f in names:
            exits.update(bindings.names_for(f"{module}.{f}"))
    suppress = set(bindings.names_for("contextlib.suppress")) | {"suppress"}
    body = tree.body if tree is not None else []
    counts: dict[str, int] = {}
    assigned: dict[str, ast.expr] = {}
    for stmt in body:
        for name in _bound_names(stmt):
            counts[name] = counts.get(name, 0) + 1
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            assigned[stmt.targets[0].id] = stmt.value
    for builtin in ("exit", "quit"):
        if builtin not in counts:
            exits.add(builtin)
    for module, names in EXIT_FUNCTIONS.items():
        # `class sys: ...` (or `sys = ...`) at module level: `sys.exit()` is the file's own
        if counts.get(module, 0) > (1 if module in bindings.names_for(module) else 0):
            exits.difference_update(f"{module}.{f}" for f in names)
    errors: dict[str, tuple[str, ...]] = {}
    for name, value in assigned.items():
        if counts.get(name) != 1:
            continue
        dotted = _dotted_ast(value)
        if dotted is not None:
            if dotted in exits:
                exits.add(name)  # stop = sys.exit
            elif dotted.rpartition(".")[2] == "suppress":
                suppress.add(name)
            else:
                errors[name] = (dotted.rpartition(".")[2],)
        elif isinstance(value, ast.Tuple):
            parts = [_dotted_ast(e) for e in value.elts]
            if all(parts):
                errors[name] = tuple(p.rpartition(".")[2] for p in parts)
    loggers = set(bindings.names_for("logging"))
    get_logger = {"logging.getLogger", *(f"{n}.getLogger" for n in bindings.names_for("logging")),
                  *bindings.names_for("logging.getLogger")}
    for name, value in assigned.items():
        if counts.get(name) == 1 and isinstance(value, ast.Call) and _dotted_ast(value.func) in get_logger:
            loggers.add(name)
    return WalkContext(frozenset(exits), errors, frozenset(suppress), frozenset(counts), frozenset(loggers))


def _bound_names(stmt: ast.stmt):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            yield (alias.asname or alias.name).split(".")[0]
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    yield node.id
    elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.stmt):
                yield from _bound_names(child)
            elif isinstance(child, ast.excepthandler):
                for inner in child.body:
                    yield from _bound_names(inner)
