"""Control flow: loop else, early exits through elif/try/finally/with, exits through aliases,
match/case, constant and contradictory conditions, __main__ and TYPE_CHECKING disjunctions,
nested toggle tests."""

from ._make import family

case = family("control-flow")
PY = "from pkg.config import USE_FEAT\n"

CASES = [
    case("for-else-break-when-off", PY + """
        for _ in range(1):
            if not USE_FEAT:
                break
        else:
            from pkg import feat
        """, "silent"),
    case("for-else-break-when-on", PY + """
        for _ in range(1):
            if USE_FEAT:
                break
        else:
            from pkg import feat
        """, "breaks"),
    case("while-else-no-break", PY + """
        n = 0
        while n < 1:
            n += 1
            if USE_FEAT:
                break
        else:
            from pkg import feat
        """, "breaks"),
    case("while-not-toggle", PY + "while not USE_FEAT:\n    from pkg import feat\n    break\n", "breaks"),
    case("elif-raise-early-exit", PY + """
        import sys
        if USE_FEAT:
            pass
        elif sys.version_info > (3,):
            raise ImportError("feat is off")
        from pkg import feat
        """, "silent"),
    case("else-return-in-function", PY + """
        def load():
            if USE_FEAT:
                pass
            else:
                return None
            from pkg import feat
            return feat
        """, "silent", calls=("load()",)),
    case("elif-return-not-every-path", PY + """
        def load(kind):
            if USE_FEAT:
                pass
            elif kind == "a":
                return None
            from pkg import feat
            return feat
        """, "call-breaks", calls=("load('b')",)),
    case("try-finally-return", PY + """
        def load():
            try:
                if not USE_FEAT:
                    return None
            finally:
                pass
            from pkg import feat
            return feat
        """, "silent", calls=("load()",)),
    case("finally-runs-on-raise", PY + """
        try:
            try:
                if not USE_FEAT:
                    raise RuntimeError("feat is off")
            finally:
                from pkg import feat
        except RuntimeError:
            pass
        """, "breaks"),
    case("with-raise-early-exit", PY + """
        import contextlib
        with contextlib.nullcontext():
            if not USE_FEAT:
                raise ImportError("feat is off")
        from pkg import feat
        """, "silent"),
    case("suppressed-raise-no-exit", PY + """
        import contextlib
        with contextlib.suppress(RuntimeError):
            if not USE_FEAT:
                raise RuntimeError("feat is off")
        from pkg import feat
        """, "breaks"),
    case("caught-raise-no-exit", PY + """
        try:
            if not USE_FEAT:
                raise RuntimeError("feat is off")
        except RuntimeError:
            pass
        from pkg import feat
        """, "breaks"),
    case("sys-exit-alias", PY + """
        import sys
        stop = sys.exit
        if not USE_FEAT:
            stop()
        from pkg import feat
        """, "silent"),
    case("from-sys-import-exit-as", PY + """
        from sys import exit as leave
        if not USE_FEAT:
            leave("feat is off")
        from pkg import feat
        """, "silent"),
    case("raise-systemexit", PY + "if not USE_FEAT:\n    raise SystemExit(0)\nfrom pkg import feat\n", "silent"),
    case("exit-helper-that-returns", PY + """
        def stop():
            print("feat is off")
        if not USE_FEAT:
            stop()
        from pkg import feat
        """, "breaks"),
    case("match-case-true", PY + "match USE_FEAT:\n    case True:\n        from pkg import feat\n", "silent"),
    case("match-case-false", PY + "match USE_FEAT:\n    case False:\n        from pkg import feat\n", "breaks"),
    case("match-wildcard", PY + "match USE_FEAT:\n    case True:\n        pass\n    case _:\n        from pkg import feat\n", "breaks"),
    case("if-false", "if False:\n    from pkg import feat\n", "silent"),
    case("if-zero", "if 0:\n    from pkg import feat\n", "silent"),
    case("while-false", "while False:\n    from pkg import feat\n", "silent"),
    case("contradiction", PY + "if USE_FEAT and not USE_FEAT:\n    from pkg import feat\n", "silent"),
    case("tautology-or-true", PY + "if USE_FEAT or True:\n    from pkg import feat\n", "breaks"),
    case("main-or-toggle", PY + 'if __name__ == "__main__" or USE_FEAT:\n    from pkg import feat\n', "silent"),
    case("type-checking-or-toggle", PY + "import typing\nif typing.TYPE_CHECKING or USE_FEAT:\n    from pkg import feat\n", "silent"),
    case("nested-not-then-toggle", PY + "if not USE_FEAT:\n    if USE_FEAT:\n        from pkg import feat\n", "silent"),
    case("nested-toggle-then-not", PY + "if USE_FEAT:\n    if not USE_FEAT:\n        from pkg import feat\n", "silent"),
    case("ternary-test", PY + "if (USE_FEAT if USE_FEAT else True):\n    from pkg import feat\n", "breaks"),
    case("after-if-else", PY + "if USE_FEAT:\n    pass\nelse:\n    pass\nfrom pkg import feat\n", "breaks"),
    case("not-off-branch-then-elif", PY + "if not USE_FEAT:\n    pass\nelif True:\n    from pkg import feat\n", "silent"),
    case("toggle-body", PY + "if USE_FEAT:\n    from pkg import feat\n", "silent"),
    # further cases (guardb): exits composed through else/try/with/loops, constants, match patterns
    case("if-raise-else-pass", PY + "if not USE_FEAT:\n    raise ImportError('off')\nelse:\n    pass\nfrom pkg import feat\n", "silent"),
    case("while-true-break-when-off", PY + """
        while True:
            if not USE_FEAT:
                break
            from pkg import feat
            break
        """, "silent"),
    case("version-info-dead-else", PY + "import sys\nif sys.version_info >= (3,):\n    pass\nelse:\n    from pkg import feat\n", "silent"),
    case("handler-always-exits-then-import", PY + """
        try:
            if not USE_FEAT:
                raise RuntimeError("off")
        except RuntimeError:
            raise SystemExit(0)
        from pkg import feat
        """, "silent"),
    case("with-open-raise-early-exit", PY + """
        with open(__file__):
            if not USE_FEAT:
                raise ImportError("feat is off")
        from pkg import feat
        """, "silent"),
    case("with-suppressing-manager", PY + """
        class Quiet:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return True

        with Quiet():
            if not USE_FEAT:
                raise RuntimeError("feat is off")
        from pkg import feat
        """, "breaks"),
    case("match-or-pattern", PY + "match USE_FEAT:\n    case True | 1:\n        from pkg import feat\n", "silent"),
    case("and-false-constant", PY + "if USE_FEAT or (__debug__ and False):\n    from pkg import feat\n", "silent"),
    case("not-toggle-or-type-checking", PY + "from typing import TYPE_CHECKING\nif not USE_FEAT or TYPE_CHECKING:\n    from pkg import feat\n", "breaks"),
    case("function-return-else-pass", PY + """
        def load():
            if not USE_FEAT:
                return None
            else:
                pass
            from pkg import feat
            return feat
        """, "silent", calls=("load()",)),
    case("exit-in-elif-chain-all-paths", PY + """
        import sys
        if USE_FEAT:
            pass
        elif True:
            sys.exit(0)
        from pkg import feat
        """, "silent"),
]
