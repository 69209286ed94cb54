"""Handlers judged by the exception deletion really raises: `from pkg import feat` raises a plain
ImportError ("cannot import name"), `import pkg.feat` a ModuleNotFoundError; handlers that exit or
re-raise on every path; tuples and aliases of the handled types; results used after the handler."""

from ._make import family

case = family("handlers")
M = "from pkg import feat"

CASES = [
    case("mnfe-around-from-import", f"try:\n    {M}\nexcept ModuleNotFoundError:\n    feat = None\n", "breaks"),
    case("mnfe-around-import-dotted", "try:\n    import pkg.feat\nexcept ModuleNotFoundError:\n    pass\n", "runs"),
    case("mnfe-around-from-submodule", "try:\n    from pkg.feat import core\nexcept ModuleNotFoundError:\n    core = None\n", "runs"),
    case("handler-sys-exit", f"import sys\ntry:\n    {M}\nexcept ImportError:\n    sys.exit(1)\n", "breaks"),
    case("handler-os-exit", f"import os\ntry:\n    {M}\nexcept ImportError:\n    os._exit(3)\n", "breaks"),
    case("both-branches-reraise", f"""
        try:
            {M}
        except ImportError as error:
            if error.name:
                raise
            else:
                raise
        """, "breaks"),
    case("raise-nested-in-with", f"""
        import contextlib
        try:
            {M}
        except ImportError:
            with contextlib.nullcontext():
                raise
        """, "breaks"),
    case("conditional-reraise", f"""
        try:
            {M}
        except ImportError as error:
            if "feat" in str(error):
                raise
        """, "breaks"),
    case("reraise-from-none", f'try:\n    {M}\nexcept ImportError:\n    raise ImportError("install feat") from None\n', "breaks"),
    case("result-used-after-handler", f"try:\n    {M}\nexcept ImportError:\n    feat = None\nNAME = feat.__name__\n", "breaks"),
    case("suppress-mnfe-from-import", f"import contextlib\nwith contextlib.suppress(ModuleNotFoundError):\n    {M}\n", "breaks"),
    case("value-error-only", f"try:\n    {M}\nexcept (ValueError, TypeError):\n    pass\n", "breaks"),
    case("module-level-tuple", f"_ERRS = (ImportError, OSError)\ntry:\n    {M}\nexcept _ERRS:\n    feat = None\n", "runs"),
    case("aliased-suppress", f"from contextlib import suppress as ignoring\nwith ignoring(ImportError):\n    {M}\n", "runs"),
    case("suppress-mnfe-dotted", "import contextlib\nwith contextlib.suppress(ModuleNotFoundError):\n    import pkg.feat\n", "runs"),
    case("except-star", f"try:\n    {M}\nexcept* ImportError:\n    pass\n", "runs"),
    case("except-import-error", f"try:\n    {M}\nexcept ImportError:\n    feat = None\n", "runs"),
    case("except-exception", f"try:\n    {M}\nexcept Exception:\n    feat = None\n", "runs"),
    case("except-base-exception", f"try:\n    {M}\nexcept BaseException:\n    feat = None\n", "runs"),
    case("except-warns", f"""
        import warnings
        try:
            {M}
        except ImportError as error:
            warnings.warn(str(error))
        """, "runs"),
    case("keep-error-for-later", f"""
        try:
            {M}
        except ImportError as error:
            _MISSING = error
        """, "runs"),
    case("lazy-optional-return-none", f"""
        def get():
            try:
                {M}
            except ImportError:
                return None
            return feat
        """, "call-runs", calls=("get()",)),
    case("lazy-mnfe-from-import", f"""
        def get():
            try:
                {M}
            except ModuleNotFoundError:
                return None
            return feat
        """, "call-breaks", calls=("get()",)),
    case("guarded-and-optional", f"from pkg.config import USE_FEAT\nif USE_FEAT:\n    try:\n        {M}\n    except ImportError:\n        pass\n",
         "silent"),
    # further cases (guardb)
    case("mnfe-then-import-error-reraise", f"""
        try:
            {M}
        except ModuleNotFoundError:
            feat = None
        except ImportError:
            raise
        """, "breaks"),
    case("tuple-mnfe-and-import-error", f"try:\n    {M}\nexcept (ModuleNotFoundError, ImportError):\n    feat = None\n", "runs"),
    case("module-level-mnfe-alias", f"_ERRS = ModuleNotFoundError\ntry:\n    {M}\nexcept _ERRS:\n    feat = None\n", "breaks"),
    case("dotted-with-else", "try:\n    import pkg.feat\nexcept ImportError:\n    pass\nelse:\n    pass\n", "runs"),
    case("raise-in-loop-in-handler", f"""
        try:
            {M}
        except ImportError:
            for _ in range(1):
                raise
        """, "breaks"),
    case("star-import-caught-as-import-error", "try:\n    from pkg import *\nexcept ImportError:\n    pass\n", "breaks",
         files={"pkg/__init__.py": '__all__ = ["feat"]\n'}, note="a star import of a missing submodule raises AttributeError"),
    case("star-import-caught-as-attribute-error", "try:\n    from pkg import *\nexcept (ImportError, AttributeError):\n    pass\n", "runs",
         files={"pkg/__init__.py": '__all__ = ["feat"]\n'}),
    case("runpy-mnfe-handler", "import runpy\ntry:\n    runpy.run_module('pkg.feat.core')\nexcept ModuleNotFoundError:\n    pass\n", "breaks",
         note="runpy reports a missing module as a plain ImportError"),
    case("function-called-in-try", "def setup():\n    from pkg import feat\n\ntry:\n    setup()\nexcept ImportError:\n    pass\n", "runs",
         calls=("setup()",)),
    case("suppress-then-name-used", f"import contextlib\nwith contextlib.suppress(ImportError):\n    {M}\nX = feat\n", "breaks"),
    case("handler-pass-then-name-used", f"try:\n    {M}\nexcept ImportError:\n    pass\nprint(feat)\n", "breaks"),
    case("none-then-decorator-use", f"""
        try:
            {M}
        except ImportError:
            feat = None

        import functools

        @functools.lru_cache(maxsize=len(feat.__name__))
        def f():
            pass
        """, "breaks"),
    case("none-then-checked-use", f"try:\n    {M}\nexcept ImportError:\n    feat = None\nif feat is not None:\n    X = feat.__name__\n", "runs"),
    case("none-then-use-in-function", f"try:\n    {M}\nexcept ImportError:\n    feat = None\n\ndef name():\n    return feat.__name__\n", "runs"),
]
