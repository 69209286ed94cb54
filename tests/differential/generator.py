"""Small projects composed from the constructs that decide what runs at import time (issue 24).

A project is a few modules `pkg/m<i>.py` next to the oracle's boilerplate (tests/oracle/harness.py:
the toggle module `pkg/config.py`, `pkg/support.py`, the scope `pkg/feat`). Each module is a list
of items; an item is a tree of `Node`s whose leaves load the scope (or an earlier module) and whose
inner nodes wrap them in guards, handlers, functions and the implicit calls of class creation and
protocols, each triggered (or not) at import time, here or in the next module.

Trees are plain data (frozen, hashable, JSON-able through `to_json`/`from_json`), so a
counterexample can be shrunk (tests/differential/judge.py) and pinned. `generate(choose)` draws
one project; `choose(options)` picks one element (hypothesis's `data.draw(sampled_from(...))` in
the suite, `random.Random.choice` in bench/differential.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

HEADER = """\
import atexit
import contextlib
import enum
import functools
import importlib
import os
import sys
import warnings

from pkg import config
from pkg.config import USE_FEAT
from pkg.support import libinfo


def _fail():
    raise RuntimeError("feat is required")

"""

# --- the vocabulary -------------------------------------------------------------------------------

PAYLOADS = {
    "from": "from pkg import feat",
    "import": "import pkg.feat",
    "sub": "import pkg.feat.core as _core",
    "il": 'importlib.import_module("pkg.feat")',
    "il-computed": 'importlib.import_module(".".join(["pkg", "feat"]))',
    "dunder": '__import__("pkg.feat")',
    "exec": 'exec("import pkg.feat")',
    "sys-modules": 'sys.modules.setdefault("pkg._alias", importlib.import_module("pkg.feat"))',
}

# guards whose body runs with the toggle off ("runs") or not ("guarded"); the body is the child
IF_HEADS = {
    "if-on": ("if USE_FEAT:", None),
    "if-on-attr": ("if config.USE_FEAT:", None),
    "if-on-libinfo": ('if libinfo().get("USE_FEAT", "OFF") == "ON":', None),
    "if-not": ("if not USE_FEAT:", None),
    "else-of-on": ("if USE_FEAT:", "else:"),
    "else-of-not": ("if not USE_FEAT:", "else:"),
}

HANDLERS = {
    "pass": ("except ImportError:", "pass"),
    "none": ("except ImportError:", "_missing = None"),
    "tuple": ("except (ImportError, OSError):", "pass"),
    "warn": ("except ImportError:", 'warnings.warn("feat is missing")'),
    "reraise": ("except ImportError:", "raise"),
    "raise-from": ("except ImportError as error:", 'raise RuntimeError("need feat") from error'),
    "call-fail": ("except ImportError:", "_fail()"),
    "wrong-type": ("except ValueError:", "pass"),
    "try-else": None,  # try: pass / except ImportError: pass / else: CHILD
}

WRITES = {
    "globals-item": ('globals()["USE_FEAT"] = True', "if USE_FEAT:"),
    "globals-update": ("globals().update(USE_FEAT=True)", "if USE_FEAT:"),
    "exec-string": ('exec("USE_FEAT = True", globals())', "if USE_FEAT:"),
    "config-attr": ("config.USE_FEAT = True", "if config.USE_FEAT:"),
    "setattr-config": ('setattr(config, "USE_FEAT", 1)', "if config.USE_FEAT:"),
}

# how a function `F` defined by a "func" node is (or is not) called; {F} is its name, {N} a fresh number
TRIGGERS = {
    "none": [],
    "call": ["{F}()"],
    "call-under-toggle": ["if USE_FEAT:", "    {F}()"],
    "decorator": ["@{F}", "def _g{N}():", "    pass"],
    "map": ["_r{N} = list(map({F}, [1]))"],
    "map-unconsumed": ["_r{N} = map({F}, [1])"],
    "filter": ["_r{N} = list(filter({F}, [1]))"],
    "sorted-key": ["_r{N} = sorted([2, 1], key={F})"],
    "dict": ['_t{N} = {{"k": {F}}}', '_t{N}["k"]()'],
    "list": ["_l{N} = [{F}]", "for _h{N} in _l{N}:", "    _h{N}()"],
    "partial": ["_p{N} = functools.partial({F}, 1)", "_p{N}()"],
    "partial-uncalled": ["_p{N} = functools.partial({F}, 1)"],
    # decorator factories usable bare or with arguments: what the factory's result does with _g
    "factory-dual": ["def _d{N}(n=1, func=None):", "    if func is None:", "        return functools.partial(_d{N}, n)",
                     "    return func", "@_d{N}(n=2)", "def _g{N}():", "    {F}()"],
    "factory-dual-calls": ["def _d{N}(n=1, func=None):", "    if func is None:",
                           "        return functools.partial(_d{N}, n)", "    func()", "    return func",
                           "@_d{N}(n=2)", "def _g{N}():", "    {F}()"],
    "factory-default-runner": ["def _r{N}(f):", "    f()", "    return f", "def _d{N}(n=1, w=_r{N}):", "    return w",
                               "@_d{N}(2)", "def _g{N}():", "    {F}()"],
    "factory-filled-runner": ["def _r{N}(f):", "    f()", "    return f", "def _d{N}(n, w=None):", "    return w",
                              "@_d{N}(2, _r{N})", "def _g{N}():", "    {F}()"],
    "lambda": ["_l{N} = lambda f={F}: f()", "_l{N}()"],
    "lambda-uncalled": ["_l{N} = lambda f={F}: f()"],
    "default-arg": ["def _g{N}(x={F}()):", "    return x"],
    "annotation": ["def _g{N}(x: {F}()):", "    return x"],
    "class-attr": ["class _C{N}:", "    X = {F}()"],
    "class-decorator": ["@{F}", "class _C{N}:", "    pass"],
    "atexit": ["atexit.register({F})"],
    "exec-call": ['exec("{F}()")'],
    "globals-lookup": ['globals()["{F}"]()'],  # module level only
    "getattr-module": ['getattr(sys.modules[__name__], "{F}")()'],  # module level only
}
MODULE_ONLY_TRIGGERS = frozenset({"globals-lookup", "getattr-module"})

# implicit calls: CHILD goes in the body of the method Python calls; {N} a fresh number.
# (definition lines, trigger lines); {M} is the defining module's prefix in the next module
SPECIALS = {
    "metaclass": (["class _M{N}(type):", "    def __new__(mcs, name, bases, ns):", "CHILD8",
                   "        return super().__new__(mcs, name, bases, ns)"],
                  ["class _C{N}(metaclass={M}_M{N}):", "    pass"]),
    "init-subclass": (["class _B{N}:", "    def __init_subclass__(cls, **kwargs):", "CHILD8"],
                      ["class _C{N}({M}_B{N}):", "    pass"]),
    "set-name": (["class _D{N}:", "    def __set_name__(self, owner, name):", "CHILD8"],
                 ["class _C{N}:", "    d = {M}_D{N}()"]),
    "enum-member": (["class _X{N}:", "    def __init__(self, *args):", "CHILD8"],
                    ["class _E{N}({M}_X{N}, enum.Enum):", "    A = 1"]),
    "property": (["class _C{N}:", "    @property", "    def p(self):", "CHILD8", "        return 1"],
                 ["_v{N} = {M}_C{N}().p"]),
    "descriptor-get": (["class _D{N}:", "    def __get__(self, obj, owner=None):", "CHILD8", "        return 1"],
                       ["class _H{N}:", "    d = {M}_D{N}()", "_v{N} = _H{N}.d"]),
    "class-getitem": (["class _C{N}:", "    def __class_getitem__(cls, item):", "CHILD8", "        return cls"],
                      ["_v{N} = {M}_C{N}[int]"]),
    "hash": (["class _K{N}:", "    def __hash__(self):", "CHILD8", "        return 1"],
             ["_v{N} = {{{M}_K{N}()}}"]),
    "bool": (["class _K{N}:", "    def __bool__(self):", "CHILD8", "        return False"],
             ["if {M}_K{N}():", "    pass"]),
    "iter": (["class _K{N}:", "    def __iter__(self):", "CHILD8", "        return iter(())"],
             ["_v{N} = list({M}_K{N}())"]),
    "enter": (["class _W{N}:", "    def __enter__(self):", "CHILD8", "        return self",
               "    def __exit__(self, *exc):", "        return False"],
              ["with {M}_W{N}():", "    pass"]),
    "del": (["class _K{N}:", "    def __del__(self):", "CHILD8"],
            ["{M}_K{N}()"]),
    "module-getattr": (["def __getattr__(name):", '    if name == "_dyn{N}":', "CHILD8", "        return 1",
                        "    raise AttributeError(name)"],
                       ['_v{N} = getattr(sys.modules[__name__], "_dyn{N}")']),  # next module: from ... import _dyn{N}
}


@dataclass(frozen=True)
class Node:
    kind: str  # payload | dep | pass | if | try | suppress | write | class-body | early-exit | func | special
    arg: str = ""  # the variant (payload spelling, if head, handler, write, trigger, special)
    child: Node | None = None
    where: str = "here"  # func/special at module level: trigger "here" or in the "next" module

    def shape(self) -> str:
        """The construct family: kinds and variants, payload spellings folded."""
        label = {"payload": "import-scope", "dep": "import-module", "pass": "pass"}.get(self.kind)
        if label:
            return label
        head = f"{self.kind}[{self.arg}{'@next' if self.where == 'next' else ''}]"
        return f"{head}({self.child.shape()})" if self.child else head


@dataclass(frozen=True)
class Module:
    index: int
    items: tuple[Node, ...]
    future: bool = False  # `from __future__ import annotations`


@dataclass(frozen=True)
class Project:
    modules: tuple[Module, ...]
    label: str = field(default="", compare=False)

    def files(self) -> dict[str, str]:
        return render(self)

    def shapes(self) -> tuple[str, ...]:
        return tuple(f"m{m.index}:{item.shape()}" for m in self.modules for item in m.items)


# --- drawing --------------------------------------------------------------------------------------

Choose = Callable[[Sequence], object]

LEAF_WEIGHTS = ("payload",) * 4 + ("dep",)
INNER = ("if", "if", "try", "try", "suppress", "write", "class-body", "func", "func", "func", "special", "special",
         "early-exit")


def _draw_node(choose: Choose, ctx: str, depth: int, module: int, top: bool) -> Node:
    if depth <= 0 or choose((True,) + (False,) * (7 if top else 2)):  # a plain top-level import masks the rest
        kind = choose(LEAF_WEIGHTS) if module > 0 else "payload"
        if kind == "dep":
            return Node("dep", str(choose(range(module))))
        return Node("payload", choose(tuple(PAYLOADS)))
    kinds = [k for k in INNER if k != "early-exit" or ctx == "function"]
    kind = choose(kinds)
    if kind == "if":
        return Node("if", choose(tuple(IF_HEADS)), _draw_node(choose, ctx, depth - 1, module, False))
    if kind == "try":
        return Node("try", choose(tuple(HANDLERS)), _draw_node(choose, ctx, depth - 1, module, False))
    if kind == "suppress":
        return Node("suppress", "", _draw_node(choose, ctx, depth - 1, module, False))
    if kind == "write":
        return Node("write", choose(tuple(WRITES)), _draw_node(choose, ctx, depth - 1, module, False))
    if kind == "class-body":
        return Node("class-body", "", _draw_node(choose, "class", depth - 1, module, False))
    if kind == "early-exit":
        return Node("early-exit", choose(("return", "no-exit")), _draw_node(choose, ctx, depth - 1, module, False))
    where = choose(("here", "here", "next")) if top else "here"
    if kind == "func":
        triggers = [t for t in TRIGGERS if ctx == "module" or t not in MODULE_ONLY_TRIGGERS]
        return Node("func", choose(triggers), _draw_node(choose, "function", depth - 1, module, False), where)
    specials = [s for s in SPECIALS if s != "module-getattr" or top]
    return Node("special", choose(specials), _draw_node(choose, "function", depth - 1, module, False), where)


def generate(choose: Choose, max_modules: int = 3, max_items: int = 3, max_depth: int = 3) -> Project:
    count = choose(range(1, max_modules + 1))
    modules = []
    for index in range(count):
        items = tuple(_draw_node(choose, "module", max_depth, index, True) for _ in range(choose(range(1, max_items + 1))))
        modules.append(Module(index, items, future=bool(choose((False, False, False, True)))))
    return _fix_getattr(Project(tuple(modules)))


def _fix_getattr(project: Project) -> Project:
    """At most one module-level __getattr__ per module (a second would replace the first)."""
    modules = []
    for module in project.modules:
        seen, items = False, []
        for item in module.items:
            if item.kind == "special" and item.arg == "module-getattr":
                if seen:
                    item = Node("special", "property", item.child, item.where)
                seen = True
            items.append(item)
        modules.append(Module(module.index, tuple(items), module.future))
    return Project(tuple(modules), project.label)


# --- rendering ------------------------------------------------------------------------------------


class _Names:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def _indent(lines: list[str], by: int = 4) -> list[str]:
    return [(" " * by + line) if line else line for line in lines]


def _block(lines: list[str]) -> list[str]:
    return lines if any(line.strip() for line in lines) else ["pass"]


def _render(node: Node, ctx: str, names: _Names, module: int, nxt: list[str]) -> list[str]:
    """The statements of `node` at indentation 0; lines for the next module go to `nxt`."""
    if node.kind == "payload":
        return [PAYLOADS[node.arg]]
    if node.kind == "dep":
        return [f"from pkg import m{node.arg}"]
    if node.kind == "pass":
        return ["pass"]
    child = _render(node.child, "function" if node.kind in ("func", "special") else
                    "class" if node.kind == "class-body" else ctx, names, module, nxt) if node.child else ["pass"]
    if node.kind == "if":
        head, other = IF_HEADS[node.arg]
        if other is None:
            return [head, *_indent(child)]
        return [head, "    pass", other, *_indent(child)]
    if node.kind == "try":
        handler = HANDLERS[node.arg]
        if handler is None:
            return ["try:", "    pass", "except ImportError:", "    pass", "else:", *_indent(child)]
        return ["try:", *_indent(child), handler[0], "    " + handler[1]]
    if node.kind == "suppress":
        return ["with contextlib.suppress(ImportError):", *_indent(child)]
    if node.kind == "write":
        write, test = WRITES[node.arg]
        return [write, test, *_indent(child)]
    if node.kind == "class-body":
        return [f"class _S{names.next()}:", *_indent(_block(child))]
    if node.kind == "early-exit":
        exit_line = "return None" if node.arg == "return" else '_reason = "feat is off"'
        return ["if not USE_FEAT:", "    " + exit_line, *child]
    n = names.next()
    if node.kind == "func":
        name = f"_f{n}"
        lines = [f"def {name}(*args, **kwargs):", *_indent(child), "    return args[0] if args else None"]
        trigger = [t.format(F=name, N=n) for t in TRIGGERS[node.arg]]
        if node.where == "next" and trigger:
            trigger = [t.format(F=name, N=n) for t in TRIGGERS[node.arg]]
            nxt.extend([f"from pkg.m{module} import {name}", *trigger, ""])
            return lines
        return [*lines, *trigger]
    definition, trigger = SPECIALS[node.arg]
    lines = []
    for line in definition:
        if line == "CHILD8":
            lines.extend(_indent(child, 8))
        else:
            lines.append(line.format(N=n))
    if node.where == "next":
        if node.arg == "module-getattr":
            nxt.extend([f"from pkg.m{module} import _dyn{n}", ""])
        else:
            nxt.extend([f"from pkg import m{module}", *[t.format(N=n, M=f"m{module}.") for t in trigger], ""])
        return lines
    return [*lines, *[t.format(N=n, M="") for t in trigger]]


def render(project: Project) -> dict[str, str]:
    """{path: text} of the project's modules (the oracle's Case adds the boilerplate)."""
    names = _Names()
    bodies: dict[int, list[str]] = {m.index: [] for m in project.modules}
    pending: list[str] = []  # lines the previous module sends to the next one
    files = {}
    for module in project.modules:
        body = list(pending)
        pending = []
        for item in module.items:
            nxt: list[str] = []
            body.extend([*_render(item, "module", names, module.index, nxt), ""])
            pending.extend(nxt)
        bodies[module.index] = body
        head = ("from __future__ import annotations\n\n" if module.future else "") + HEADER
        files[f"pkg/m{module.index}.py"] = head + "\n" + "\n".join(body).rstrip("\n") + "\n"
    if pending:  # the last module's "next" triggers run in a module of their own
        last = project.modules[-1].index + 1 if project.modules else 0
        files[f"pkg/m{last}.py"] = HEADER + "\n" + "\n".join(pending).rstrip("\n") + "\n"
    return files


# --- (de)serialising ------------------------------------------------------------------------------


def node_to_json(node: Node) -> dict:
    out: dict = {"kind": node.kind}
    if node.arg:
        out["arg"] = node.arg
    if node.where != "here":
        out["where"] = node.where
    if node.child is not None:
        out["child"] = node_to_json(node.child)
    return out


def node_from_json(data: dict) -> Node:
    child = data.get("child")
    return Node(data["kind"], data.get("arg", ""), node_from_json(child) if child else None, data.get("where", "here"))


def to_json(project: Project) -> list:
    return [{"index": m.index, "future": m.future, "items": [node_to_json(i) for i in m.items]} for m in project.modules]


def from_json(data: list) -> Project:
    return Project(tuple(Module(m["index"], tuple(node_from_json(i) for i in m["items"]), m.get("future", False))
                         for m in data))
