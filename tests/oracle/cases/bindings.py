"""Names are the toggle where they are bound to it, not where they are spelled like it: local,
parameter, loop, global and class rebindings, `del` and re-import, a module's own TYPE_CHECKING or
exit(); and the aliases that are the toggle under another name."""

from ._make import family

case = family("bindings")
PY = "from pkg.config import USE_FEAT\n"
ON = {"pkg/other.py": "ENABLED = True\n"}

CASES = [
    case("parameter-default", """
        def load(USE_FEAT=True):
            if USE_FEAT:
                from pkg import feat
        load()
        """, "breaks"),
    case("parameter-passed-off-negated", """
        from pkg import config
        def setup(USE_FEAT):
            if USE_FEAT:
                from pkg import feat
        setup(not config.USE_FEAT)
        """, "breaks"),
    case("local-variable", """
        def load():
            USE_FEAT = True
            if USE_FEAT:
                from pkg import feat
        load()
        """, "breaks"),
    case("loop-variable", """
        for USE_FEAT in (True,):
            if USE_FEAT:
                from pkg import feat
        """, "breaks"),
    case("with-as", """
        import contextlib
        with contextlib.nullcontext(True) as USE_FEAT:
            if USE_FEAT:
                from pkg import feat
        """, "breaks"),
    case("global-rebinding", PY + "USE_FEAT = True\nif USE_FEAT:\n    from pkg import feat\n", "breaks"),
    case("global-statement-rebinding", PY + """
        def enable():
            global USE_FEAT
            USE_FEAT = True
        enable()
        if USE_FEAT:
            from pkg import feat
        """, "breaks"),
    case("del-and-reimport", PY + """
        del USE_FEAT
        from pkg.other import ENABLED as USE_FEAT
        if USE_FEAT:
            from pkg import feat
        """, "breaks", files=ON),
    case("import-as-toggle-name", "from pkg.other import ENABLED as USE_FEAT\nif USE_FEAT:\n    from pkg import feat\n",
         "breaks", files=ON),
    case("class-attribute", "class Opts:\n    USE_FEAT = True\nif Opts.USE_FEAT:\n    from pkg import feat\n", "breaks"),
    case("dict-key", 'flags = {"USE_FEAT": True}\nif flags["USE_FEAT"]:\n    from pkg import feat\n', "breaks"),
    case("own-type-checking", "TYPE_CHECKING = True\nif TYPE_CHECKING:\n    from pkg import feat\n", "breaks"),
    case("typing-type-checking-set", "import typing\ntyping.TYPE_CHECKING = True\nif typing.TYPE_CHECKING:\n    from pkg import feat\n",
         "breaks"),
    case("own-exit", PY + """
        def exit():
            pass
        if not USE_FEAT:
            exit()
        from pkg import feat
        """, "breaks"),
    case("own-sys-module", PY + """
        class sys:
            @staticmethod
            def exit():
                pass
        if not USE_FEAT:
            sys.exit()
        from pkg import feat
        """, "breaks"),
    case("negation-alias-inverted", PY + "DISABLED = not USE_FEAT\nif DISABLED:\n    from pkg import feat\n", "breaks"),
    # the toggle under another name: guarded
    case("import-alias", "from pkg.config import USE_FEAT as ENABLED\nif ENABLED:\n    from pkg import feat\n", "silent"),
    case("getattr-literal", 'from pkg import config\nif getattr(config, "USE_FEAT"):\n    from pkg import feat\n', "silent"),
    case("getattr-default", 'from pkg import config\nif getattr(config, "USE_FEAT", False):\n    from pkg import feat\n', "silent"),
    case("walrus-in-test", PY + "if (on := USE_FEAT):\n    from pkg import feat\n", "silent"),
    case("walrus-then-name", PY + "_ = (on := USE_FEAT)\nif on:\n    from pkg import feat\n", "silent"),
    case("assigned-alias", PY + "ENABLED = USE_FEAT\nif ENABLED:\n    from pkg import feat\n", "silent"),
    case("negation-alias", PY + "DISABLED = not USE_FEAT\nif not DISABLED:\n    from pkg import feat\n", "silent"),
    case("module-alias", "import pkg.config as cfg\nif cfg.USE_FEAT:\n    from pkg import feat\n", "silent"),
    case("type-checking-as-tc", "from typing import TYPE_CHECKING as TC\nif TC:\n    from pkg import feat\n", "silent"),
    case("typing-as-t", "import typing as t\nif t.TYPE_CHECKING:\n    from pkg import feat\n", "silent"),
    case("config-attribute", "from pkg import config\nif config.USE_FEAT:\n    from pkg import feat\n", "silent"),
    # further semantics (guarda)
    case("conditional-rebinding", PY + "import os\nif os.name:\n    USE_FEAT = True\nif USE_FEAT:\n    from pkg import feat\n", "breaks"),
    case("class-body-rebinding", "class C:\n    USE_FEAT = True\n    if USE_FEAT:\n        from pkg import feat\n", "breaks"),
    case("module-named-like-toggle", "import pkg.config as USE_FEAT\nif USE_FEAT:\n    from pkg import feat\n", "breaks"),
    case("attribute-assigned", "from pkg import config\nconfig.USE_FEAT = True\nif config.USE_FEAT:\n    from pkg import feat\n", "breaks"),
    case("setattr-module", 'from pkg import config\nsetattr(config, "USE_FEAT", True)\nif config.USE_FEAT:\n    from pkg import feat\n', "breaks"),
    case("globals-subscript", PY + 'globals()["USE_FEAT"] = True\nif USE_FEAT:\n    from pkg import feat\n', "breaks"),
    case("alias-or-true", PY + "ENABLED = USE_FEAT or True\nif ENABLED:\n    from pkg import feat\n", "breaks"),
    case("own-true-typing-module", "class typing:\n    TYPE_CHECKING = True\nif typing.TYPE_CHECKING:\n    from pkg import feat\n", "breaks"),
    # the toggle under another name: guarded
    case("package-attribute", "import pkg.config\nif pkg.config.USE_FEAT:\n    from pkg import feat\n", "silent"),
    case("from-package-as", "from pkg import config as c\nif c.USE_FEAT:\n    from pkg import feat\n", "silent"),
    case("star-import", "from pkg.config import *\nif USE_FEAT:\n    from pkg import feat\n", "silent"),
    case("same-value-rebound", "from pkg import config\nUSE_FEAT = config.USE_FEAT\nif USE_FEAT:\n    from pkg import feat\n", "silent"),
    case("alias-chain", PY + "A = USE_FEAT\nB = A\nif B:\n    from pkg import feat\n", "silent"),
    case("type-checking-from-typing-extensions-style", "import typing\nTC = typing.TYPE_CHECKING\nif TC:\n    from pkg import feat\n", "silent"),
]
