"""Values, objects and operators (issue 24, families no earlier table named): tests of the toggle
through operators and calls (`is True`, `!= 0`, walrus, conditional expressions, `and`/`or`,
`match`), code that runs later or never (generators, coroutines, generator expressions), callbacks of
the standard library (`defaultdict`, `dataclasses.field(default_factory=)`, `functools.reduce`,
`sorted(key=)`, `singledispatch`, `contextmanager`, threads, `weakref.finalize`), protocols on
objects (`__format__`, `__iter__`, `__contains__`, a swallowing `__exit__`, `finally: return`),
methods of objects the analysis can name (`K().m()`, a module-level instance, a factory's result,
`super().m()`, `getattr(K(), "m")`, a bound method kept and called, a subclass), the import
machinery by another name (`getattr(importlib, ...)`, `pydoc.locate`), and methods called on locals
and loop variables that hold such objects (`k = K(); k.m()`, `for v in TABLE.values(): v.m()`)."""

from ._make import family

case = family("objects")
PY = "from pkg.config import USE_FEAT\n"
M = "from pkg import feat"
K = "class K:\n    def m(self):\n        from pkg import feat\n"

CASES = [
    # operators on the toggle
    case("is-true", PY + f"if USE_FEAT is True:\n    {M}\n", "silent"),
    case("eq-true", PY + f"if USE_FEAT == True:\n    {M}\n", "silent"),
    case("is-not-false", PY + f"if USE_FEAT is not False:\n    {M}\n", "breaks"),
    case("not-not", PY + f"if not not USE_FEAT:\n    {M}\n", "silent"),
    case("bool-call", PY + f"if bool(USE_FEAT):\n    {M}\n", "silent"),
    case("ne-zero", PY + f"if USE_FEAT != 0:\n    {M}\n", "breaks"),
    case("walrus", PY + f"if (on := USE_FEAT):\n    {M}\n", "silent"),
    case("ternary-import", PY + "feat = __import__('pkg.feat') if USE_FEAT else None\n", "silent"),
    case("ternary-inverted", PY + "feat = None if USE_FEAT else __import__('pkg.feat')\n", "breaks"),
    case("and-short-circuit", PY + "_x = USE_FEAT and __import__('pkg.feat')\n", "silent"),
    case("or-short-circuit", PY + "_x = USE_FEAT or __import__('pkg.feat')\n", "breaks"),
    case("assert-toggle", PY + f"import sys\nif 'x' in sys.argv[:0]:\n    pass\nassert USE_FEAT or True\n{M}\n", "breaks"),
    case("match-true", PY + f"match USE_FEAT:\n    case True:\n        {M}\n    case _:\n        pass\n", "silent"),
    case("match-default", PY + f"match USE_FEAT:\n    case True:\n        pass\n    case _:\n        {M}\n", "breaks"),
    case("while-toggle-break", PY + f"while USE_FEAT:\n    {M}\n    break\n", "silent"),
    case("for-range-toggle", PY + f"for _ in range(int(bool(USE_FEAT))):\n    {M}\n", "silent"),
    case("any-list", PY + f"if any([USE_FEAT]):\n    {M}\n", "silent"),
    case("if-toggle-else-raise", PY + f"if USE_FEAT:\n    pass\nelse:\n    raise ImportError('off')\n{M}\n", "silent"),
    # scopes of evaluation
    case("generator-not-iterated", "def _g():\n    from pkg import feat\n    yield feat\n_it = _g()\n", "silent"),
    case("generator-iterated", "def _g():\n    from pkg import feat\n    yield feat\n_v = list(_g())\n", "breaks"),
    case("coroutine-not-awaited", "import warnings\nwarnings.simplefilter('ignore')\nasync def _c():\n    from pkg import feat\n_co = _c()\n_co.close()\n", "silent"),
    case("asyncio-run", "import asyncio\nasync def _c():\n    from pkg import feat\nasyncio.run(_c())\n", "breaks"),
    case("listcomp-import", "_x = [__import__('pkg.feat') for _ in range(1)]\n", "breaks"),
    case("genexp-unconsumed", "_x = (__import__('pkg.feat') for _ in range(1))\n", "silent"),
    case("dict-default-factory", "import collections\n_d = collections.defaultdict(lambda: __import__('pkg.feat'))\n_d['k']\n", "breaks"),
    case("dataclass-default-factory", "import dataclasses\ndef _mk():\n    from pkg import feat\n    return 1\n@dataclasses.dataclass\nclass C:\n    x: int = dataclasses.field(default_factory=_mk)\n_c = C()\n", "breaks"),
    case("cached-property-read", "import functools\nclass C:\n    @functools.cached_property\n    def p(self):\n        from pkg import feat\n        return 1\n_v = C().p\n", "breaks"),
    case("context-swallows", f"class Quiet:\n    def __enter__(self):\n        return self\n    def __exit__(self, *a):\n        return True\nwith Quiet():\n    {M}\n", "runs"),
    case("context-not-swallowing", f"class Loud:\n    def __enter__(self):\n        return self\n    def __exit__(self, *a):\n        return False\nwith Loud():\n    {M}\n", "breaks"),
    case("finally-return-swallows", f"def _f():\n    try:\n        {M}\n    finally:\n        return None\n_f()\n", "runs"),
    case("finally-runs-import", PY + f"try:\n    pass\nfinally:\n    if not USE_FEAT:\n        pass\n    {M}\n", "breaks"),
    case("except-group-star-mnfe", f"try:\n    {M}\nexcept* ModuleNotFoundError:\n    pass\n", "breaks"),
    case("sys-modules-setdefault", "import sys, importlib\n_m = sys.modules.get('pkg.feat') or importlib.import_module('pkg.feat')\n", "breaks"),
    case("getattr-importlib", "import importlib\n_f = getattr(importlib, 'import_' + 'module')\n_f('pkg.feat')\n", "breaks"),
    case("import-in-default-of-lambda", "_f = lambda m=__import__('pkg.feat'): m\n", "breaks"),
    case("class-kwarg", "class Base:\n    def __init_subclass__(cls, **kw):\n        if kw.get('load'):\n            from pkg import feat\nclass C(Base, load=True):\n    pass\n", "breaks"),
    case("metaclass-call", "class Meta(type):\n    def __call__(cls, *a):\n        from pkg import feat\n        return super().__call__(*a)\nclass C(metaclass=Meta):\n    pass\n_c = C()\n", "breaks"),
    case("property-in-class-body-not-read", "class C:\n    @property\n    def p(self):\n        from pkg import feat\n", "silent"),
    case("singledispatch-register", "import functools\n@functools.singledispatch\ndef f(x):\n    return x\n@f.register\ndef _(x: int):\n    from pkg import feat\nf(1)\n", "breaks"),
    case("contextmanager-decorated", "import contextlib\n@contextlib.contextmanager\ndef cm():\n    from pkg import feat\n    yield\nwith cm():\n    pass\n", "breaks"),
    case("str-format-getattr", "class C:\n    def __format__(self, spec):\n        from pkg import feat\n        return ''\n_s = f'{C()}'\n", "breaks"),
    case("reduce-callback", "import functools\ndef _add(a, b):\n    from pkg import feat\n    return a + b\n_v = functools.reduce(_add, [1, 2])\n", "breaks"),
    case("threading-join", "import threading\ndef _w():\n    from pkg import feat\n_t = threading.Thread(target=_w)\n_t.start()\n_t.join()\n", "runs"),
    case("weakref-finalize-not-run", "import weakref\nclass C: pass\ndef _w():\n    from pkg import feat\n_c = C()\n_f = weakref.finalize(_c, _w)\n_f.detach()\n", "silent"),
    case("sorted-key-method", "class K:\n    def key(self, x):\n        from pkg import feat\n        return x\n_v = sorted([2, 1], key=K().key)\n", "breaks"),
    case("iter-over-instance", "class It:\n    def __iter__(self):\n        from pkg import feat\n        return iter(())\nfor _ in It():\n    pass\n", "breaks"),
    case("contains-op", "class S:\n    def __contains__(self, x):\n        from pkg import feat\n        return False\n_v = 1 in S()\n", "breaks"),
    case("init-via-classmethod", "class C:\n    @classmethod\n    def make(cls):\n        from pkg import feat\n        return cls()\n_c = C.make()\n", "breaks"),
    case("staticmethod-via-instance", "class C:\n    @staticmethod\n    def make():\n        from pkg import feat\n_c = C().make()\n", "breaks"),
    case("super-call", "class A:\n    def f(self):\n        from pkg import feat\nclass B(A):\n    def f(self):\n        super().f()\nB().f()\n", "breaks"),

    case("local-instance-method", K + "_k = K()\n_k.m()\n", "breaks"),
    case("class-attr-call", "class K:\n    @staticmethod\n    def m():\n        from pkg import feat\nK.m()\n", "breaks"),
    case("classmethod-direct", "class K:\n    @classmethod\n    def m(cls):\n        from pkg import feat\nK.m()\n", "breaks"),
    case("method-value-stored-called", K + "_f = K().m\n_f()\n", "breaks"),
    case("method-via-map", K + "_r = list(map(K.m, [K()]))\n", "breaks"),
    case("getattr-literal-method", K + "getattr(K(), 'm')()\n", "breaks"),
    case("getattr-computed-method", K + "getattr(K(), 'm' + '')()\n", "breaks"),
    case("instance-from-factory", K + "def make():\n    return K()\nmake().m()\n", "breaks"),
    case("instance-in-list", K + "for _k in [K()]:\n    _k.m()\n", "breaks"),
    # values followed into locals and loops (facts/effects.py `_held`, `_local_receivers`)
    case("local-instance", K + "def _f():\n    k = K()\n    k.m()\n_f()\n", "breaks"),
    case("local-list-loop", K + "def _f():\n    ks = [K()]\n    for k in ks:\n        k.m()\n_f()\n", "breaks"),
    case("local-alias", K + "def _f():\n    a = K()\n    b = a\n    b.m()\n_f()\n", "breaks"),
    case("table-values-loop", K + "_T = {'a': K()}\nfor _v in _T.values():\n    _v.m()\n", "breaks"),
    case("table-items-in-function", K + "_T = {'a': K()}\ndef _f():\n    for _n, _v in _T.items():\n        _v.m()\n_f()\n",
         "breaks"),
    case("appended-instance-loop", K + "_T = []\n_T.append(K())\nfor _v in _T:\n    _v.m()\n", "breaks"),
    case("walrus-instance", K + "if (_k := K()):\n    _k.m()\n", "breaks"),
    # a method called on a parameter: the m of what the callers hand over
    case("param-instance", K + "def _use(obj):\n    obj.m()\n_use(K())\n", "breaks"),
    case("param-keyword", K + "def _use(*, obj):\n    obj.m()\n_use(obj=K())\n", "breaks"),
    case("param-module-instance", K + "_k = K()\ndef _use(obj):\n    obj.m()\n_use(_k)\n", "breaks"),
    case("param-local", K + "def _use(obj):\n    obj.m()\ndef _f():\n    k = K()\n    _use(k)\n_f()\n", "breaks"),
    case("param-handed-on", K + "def _use(obj):\n    obj.m()\ndef _mid(x):\n    _use(x)\n_mid(K())\n", "breaks"),
    case("param-method-of-class", K + "class R:\n    def run(self, obj):\n        obj.m()\nR().run(K())\n", "breaks"),
    # getattr(self, computed): a method of the class, its bases or a subclass
    case("getattr-self-computed", "class V:\n    def run(self, n):\n        getattr(self, 'do_' + n)()\n"
         "    def do_x(self):\n        from pkg import feat\nV().run('x')\n", "breaks"),
    case("getattr-self-subclass", "class V:\n    def run(self, n):\n        getattr(self, 'do_' + n)()\n"
         "class W(V):\n    def do_x(self):\n        from pkg import feat\nW().run('x')\n", "breaks"),
    case("param-other-module", "from pkg.helper import use\nfrom pkg.kk import K\nuse(K())\n", "breaks",
         files={"pkg/helper.py": "def use(obj):\n    obj.m()\n", "pkg/kk.py": K}),
    case("other-module-instance", "from pkg.helper import K\nK().m()\n", "breaks", files={"pkg/helper.py": K}),
    case("other-module-obj", "from pkg.helper import obj\nobj.m()\n", "breaks", files={"pkg/helper.py": K + "obj = K()\n"}),
    case("subclass-inherited", K + "class J(K):\n    pass\nJ().m()\n", "breaks"),
    case("self-method-in-init", "class K:\n    def __init__(self):\n        self.m()\n    def m(self):\n        from pkg import feat\n_k = K()\n", "breaks"),
    case("defaultdict-named", "import collections\ndef _mk():\n    from pkg import feat\n_d = collections.defaultdict(_mk)\n_d['k']\n", "breaks"),
    case("lambda-called-later", "_f = lambda: __import__('pkg.feat')\n_f()\n", "breaks"),
    case("lambda-in-external", "import functools\n_v = functools.reduce(lambda a, b: __import__('pkg.feat'), [1, 2])\n", "breaks"),
    case("pydoc-locate", 'import pydoc\n_x = pydoc.locate("pkg.feat")\n', "runs"),
]
