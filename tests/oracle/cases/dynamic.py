"""Dynamic imports in every spelling Python accepts: __import__ with fromlist and level, relative
import_module, aliases of import_module, importlib.__import__, builtins.__import__, exec/eval of
literal code, runpy, find_spec of a submodule, pkgutil.walk_packages, pytest.importorskip."""

from ._make import family

case = family("dynamic")

CASES = [
    case("dunder-import-level-fromlist", '__import__("feat", globals(), None, ["core"], 1)\n', "breaks"),
    case("import-module-relative-package-kw", 'import importlib\nimportlib.import_module(".core", package="pkg.feat")\n', "breaks"),
    case("import-module-relative-dunder-package", 'import importlib\nimportlib.import_module(".feat", __package__)\n', "breaks"),
    case("import-module-bound-name", 'import importlib\nload = importlib.import_module\nload("pkg.feat")\n', "breaks"),
    case("import-module-from-as", 'from importlib import import_module as im\nim("pkg.feat")\n', "breaks"),
    case("import-module-getattr", 'import importlib\ngetattr(importlib, "import_module")("pkg.feat")\n', "breaks"),
    case("importlib-dunder-import", 'import importlib\nimportlib.__import__("pkg.feat")\n', "breaks"),
    case("builtins-dunder-import", 'import builtins\nbuiltins.__import__("pkg.feat")\n', "breaks"),
    case("dunder-import-dotted", '__import__("pkg.feat.core")\n', "breaks"),
    case("dunder-import-fromlist-survives", '__import__("pkg", fromlist=["feat"])\n', "runs",
         note="fromlist swallows the missing submodule"),
    case("exec-literal", 'exec("import pkg.feat")\n', "breaks"),
    case("eval-literal", "eval(\"__import__('pkg.feat')\")\n", "breaks"),
    case("import-module-concatenation", 'import importlib\nimportlib.import_module("pkg" + ".feat")\n', "breaks"),
    case("import-module-constant", 'import importlib\nNAME = "pkg.feat"\nimportlib.import_module(NAME)\n', "breaks"),
    case("runpy-run-module", 'import runpy\nrunpy.run_module("pkg.feat.core")\n', "breaks"),
    case("find-spec-submodule", 'import importlib.util\nimportlib.util.find_spec("pkg.feat.core")\n', "breaks",
         note="find_spec imports the parent package"),
    case("walk-packages", 'import pkgutil\nimport pkg\nlist(pkgutil.walk_packages(pkg.__path__, "pkg."))\n', "runs",
         note="walk_packages imports every subpackage it meets"),
    case("importorskip", 'import pytest\nfeat = pytest.importorskip("pkg.feat")\n', "runs"),
    case("star-import-all", "from pkg import *\n", "breaks", files={"pkg/__init__.py": '__all__ = ["feat"]\n'}),
    # guarded or not an import of the scope
    case("import-module-guarded", 'import importlib\nfrom pkg.config import USE_FEAT\nif USE_FEAT:\n    importlib.import_module("pkg.feat")\n',
         "silent"),
    case("import-module-conditional-expression",
         'import importlib\nfrom pkg.config import USE_FEAT\nfeat = importlib.import_module("pkg.feat") if USE_FEAT else None\n', "silent"),
    case("find-spec-scope-itself", 'import importlib.util\nimportlib.util.find_spec("pkg.feat")\n', "silent"),
    case("sys-modules-get", 'import sys\nfeat = sys.modules.get("pkg.feat")\n', "silent"),
    case("exec-literal-guarded", 'from pkg.config import USE_FEAT\nif USE_FEAT:\n    exec("import pkg.feat")\n', "silent"),
    # further cases (guardb)
    case("import-module-alias-relative-package", 'import importlib as il\nil.import_module(".feat", package="pkg")\n', "breaks"),
    case("import-module-assigned-from-import", 'from importlib import import_module\nload = import_module\nload("pkg.feat")\n', "breaks"),
    case("exec-literal-from-import", 'exec("from pkg import feat")\n', "breaks"),
    case("exec-non-literal", 'CODE = compile("import pkg.feat", "<x>", "exec")\nexec(CODE)\n', "breaks"),
    case("dunder-import-missing-base-fromlist", '__import__("pkg.feat", fromlist=["core"])\n', "breaks"),
    case("importorskip-dead", 'import pytest\nif False:\n    pytest.importorskip("pkg.feat")\n', "silent"),
    case("eval-arithmetic", 'X = eval("1 + 1")\n', "silent"),
    case("import-module-in-called-lambda", 'import importlib\nFEAT = (lambda: importlib.import_module("pkg.feat"))()\n', "breaks"),
]
