"""Code that runs when the module is imported although it sits in or near a function: class bases
and keywords, decorators, default arguments, annotations (without `from __future__ import
annotations`), lambda defaults, immediately called lambdas, functions called at module level or in
a class body, __init_subclass__, `case ... if` guards. Each helper is also declared as a call, so
the lazy form (SG202) is the right answer where the import does not run on import."""

from ._make import family

case = family("import-time")
LOAD = "def _load():\n    from pkg import feat\n    return object\n\n"
CALL = ("_load()",)

CASES = [
    case("class-base", LOAD + "class C(_load()):\n    pass\n", "breaks", calls=CALL),
    case("class-keyword", LOAD.replace("object", "type") + "class C(metaclass=_load()):\n    pass\n", "breaks", calls=CALL),
    case("decorator", "def register(fn):\n    from pkg import feat\n    return fn\n\n@register\ndef f():\n    pass\n", "breaks"),
    case("decorator-factory-argument", LOAD + "import functools\n\n@functools.lru_cache(maxsize=_load() and 8)\ndef f():\n    pass\n",
         "breaks", calls=CALL),
    case("default-argument", LOAD + "def f(x=_load()):\n    return x\n", "breaks", calls=CALL),
    case("keyword-only-default", LOAD + "def f(*, x=_load()):\n    return x\n", "breaks", calls=CALL),
    case("parameter-annotation", LOAD + "def f(x: _load()) -> None:\n    pass\n", "breaks", calls=CALL),
    case("return-annotation", LOAD + "def f() -> _load():\n    pass\n", "breaks", calls=CALL),
    case("module-variable-annotation", LOAD + "x: _load() = 1\n", "breaks", calls=CALL),
    case("class-variable-annotation", LOAD + "class C:\n    x: _load()\n", "breaks", calls=CALL),
    case("lambda-default", LOAD + "f = lambda x=_load(): x\n", "breaks", calls=CALL),
    case("immediately-called-lambda", '(lambda: __import__("pkg.feat"))()\n', "breaks"),
    case("called-at-module-level", "def setup():\n    from pkg import feat\n\nsetup()\n", "breaks"),
    case("method-called-in-class-body", "class C:\n    def helper():\n        from pkg import feat\n        return 1\n\n    X = helper()\n",
         "breaks"),
    case("staticmethod-called-at-module-level", "class C:\n    @staticmethod\n    def s():\n        from pkg import feat\n\nC.s()\n",
         "breaks"),
    case("init-subclass", "class Base:\n    def __init_subclass__(cls):\n        from pkg import feat\n\nclass Child(Base):\n    pass\n",
         "breaks"),
    case("case-guard", LOAD + "match 1:\n    case 1 if _load():\n        pass\n", "breaks", calls=CALL),
    case("fstring-at-module-level", LOAD + 'MSG = f"{_load()}"\n', "breaks", calls=CALL),
    case("generator-consumed", LOAD + "ITEMS = list(_load() for _ in range(1))\n", "breaks", calls=CALL),
    # lazy for real: SG202 is the answer
    case("future-annotations-parameter", "from __future__ import annotations\n" + LOAD + "def f(x: _load()) -> None:\n    pass\n",
         "call-breaks", calls=CALL),
    case("future-annotations-variable", "from __future__ import annotations\n" + LOAD + "x: _load() = 1\n", "call-breaks", calls=CALL),
    case("lambda-body", 'f = lambda: __import__("pkg.feat")\n', "call-breaks", calls=("f()",)),
    case("plain-function", "def later():\n    from pkg import feat\n    return feat\n", "call-breaks", calls=("later()",)),
    case("module-getattr", """
        def __getattr__(name):
            if name == "feat":
                from pkg import feat
                return feat
            raise AttributeError(name)
        """, "call-breaks", calls=("__getattr__('feat')",)),
    case("called-under-toggle", "from pkg.config import USE_FEAT\n" + LOAD + "if USE_FEAT:\n    _load()\n", "call-breaks", calls=CALL),
    case("method-not-called", "class C:\n    def m(self):\n        from pkg import feat\n        return feat\n", "call-breaks",
         calls=("C().m()",)),
    # further cases (guardb)
    case("decorator-calls-helper", LOAD + "def deco(fn):\n    _load()\n    return fn\n\n@deco\ndef f():\n    pass\n", "breaks", calls=CALL),
    case("instance-at-module-level", "class C:\n    def __init__(self):\n        from pkg import feat\n\nINSTANCE = C()\n", "breaks"),
    case("nested-function-called", "def outer():\n    def inner():\n        from pkg import feat\n    inner()\n\nouter()\n", "breaks"),
    case("local-annotation-not-evaluated", LOAD + "def local():\n    x: _load() = 1\n    return x\n", "call-breaks",
         calls=("_load()", "local()")),
    case("called-under-main", "def setup():\n    from pkg import feat\n\nif __name__ == '__main__':\n    setup()\n", "call-breaks",
         calls=("setup()",)),
    case("list-comprehension", LOAD + "ITEMS = [_load() for _ in range(1)]\n", "breaks", calls=CALL),
    case("self-method-from-init", """
        class C:
            def __init__(self):
                self.load()

            def load(self):
                from pkg import feat

        C()
        """, "breaks"),
    case("metaclass-new", "class Meta(type):\n    def __new__(mcs, name, bases, ns):\n        from pkg import feat\n        return super().__new__(mcs, name, bases, ns)\n\nclass C(metaclass=Meta):\n    pass\n", "breaks"),
    case("passed-to-map", LOAD + "ITEMS = list(map(lambda f: f(), [_load]))\n", "breaks", calls=CALL,
         note="a function handed to a call at import time may be called by it"),
    case("map-of-function", "def setup(_):\n    from pkg import feat\n\nITEMS = list(map(setup, [1]))\n", "breaks"),
    case("ternary-test-constant", "from pkg.config import USE_FEAT\nif (USE_FEAT if USE_FEAT else False):\n    from pkg import feat\n", "silent"),
    case("stored-in-registry", "REGISTRY = {}\n\ndef register(name, fn):\n    REGISTRY[name] = fn\n\ndef later():\n    from pkg import feat\n\nregister('x', later)\n",
         "call-breaks", calls=("later()",)),
]
