"""Hidden couplings: registry names, computed dynamic imports, find_spec probes, monkeypatches."""

from __future__ import annotations

import textwrap

import pytest

from scopeguard import facts as scan
from scopeguard.config import ConfigError, load_config
from scopeguard.base.model import Execution, ReferenceKind, Registries, SiteKind, Toggle
from scopeguard.run.pipeline import analyse
from scopeguard.facts import ToggleMatcher, scan_source

from .conftest import FIXTURES

MATCHER = ToggleMatcher([Toggle("msc", on_when_true=("USE_MSC",))])
NEW_CODES = ("SG102", "SG103", "SG207", "SG208", "SG404")


def facts_of(code: str, module: str = "tvm.driver.build", is_package: bool = False, matcher=MATCHER, extra=False):
    source = textwrap.dedent(code).encode()
    return scan_source(source, path="x.py", module=module, is_package=is_package, matcher=matcher, extra=extra)


def refs(facts, *kinds):
    return [
        (r.kind.value, r.text, r.line, r.call, r.is_prefix)
        for r in facts.references
        if not kinds or r.kind in kinds
    ]


# -- registry calls ---------------------------------------------------------------------------


def test_registry_calls_in_tvm_spellings():
    facts = facts_of(
        """\
        import tvm
        import tvm_ffi
        from tvm_ffi import get_global_func, register_global_func

        tvm_ffi.init_ffi_api("relax.transform", __name__)
        _init_api("relax", __name__)
        f = tvm.get_global_func("relax.build")

        @register_global_func("relax.ext.cutlass")
        def codegen(mod):
            return get_global_func(name="contrib.cutlass.compile")

        @tvm_ffi.register_object("relax.expr.Call")
        class Call:
            pass

        tvm.ffi.register_func("relax.op.add", codegen, override=True)
        get_global_func(func_name)  # a name from nowhere: nothing to record
        """
    )
    R = ReferenceKind
    assert refs(facts, R.REGISTER, R.LOOKUP, R.INIT_API) == [
        ("init-api", "relax.transform", 5, "tvm_ffi.init_ffi_api", False),
        ("init-api", "relax", 6, "_init_api", False),
        ("lookup", "relax.build", 7, "tvm.get_global_func", False),
        ("register", "relax.ext.cutlass", 9, "register_global_func", False),
        ("lookup", "contrib.cutlass.compile", 11, "get_global_func", False),
        ("register", "relax.expr.Call", 13, "tvm_ffi.register_object", False),
        ("register", "relax.op.add", 17, "tvm.ffi.register_func", False),
    ]
    by_text = {r.text: r for r in facts.references}
    assert by_text["relax.build"].execution is Execution.IMPORT
    assert by_text["contrib.cutlass.compile"].execution is Execution.CALL
    assert by_text["relax.ext.cutlass"].execution is Execution.IMPORT  # a decorator runs at def time


def test_allow_missing_lookup_is_optional_and_guards_are_recorded():
    facts = facts_of(
        """\
        import tvm
        from tvm.support import USE_MSC

        a = tvm.get_global_func("msc.a", True)
        b = tvm.get_global_func("msc.b", allow_missing=True)
        c = tvm.get_global_func("msc.c", allow_missing=False)
        if USE_MSC:
            d = tvm.get_global_func("msc.d")
        e = lambda: tvm.get_global_func("msc.e")
        """
    )
    lookups = {r.text: r for r in facts.references if r.kind is ReferenceKind.LOOKUP}
    assert [t for t, r in lookups.items() if r.is_optional] == ["msc.a", "msc.b"]
    assert lookups["msc.d"].state_required("msc") is True
    assert lookups["msc.c"].state_required("msc") is None
    assert lookups["msc.e"].execution is Execution.CALL


def test_registry_names_from_fstrings_constants_and_concatenation():
    facts = facts_of(
        """\
        import tvm
        _NS = "contrib.cutlass"
        _TWICE = "a.b"
        _TWICE = "c.d"
        tvm.get_global_func(f"{_NS}.compile")
        tvm.get_global_func(_NS + ".tune")
        tvm.get_global_func(f"relax.ext.{target}")
        tvm.get_global_func(_TWICE + ".x")
        tvm.get_global_func(f"{__name__}.hook")
        """
    )
    assert refs(facts, ReferenceKind.LOOKUP) == [
        ("lookup", "contrib.cutlass.compile", 5, "tvm.get_global_func", False),
        ("lookup", "contrib.cutlass.tune", 6, "tvm.get_global_func", False),
        ("lookup", "relax.ext.", 7, "tvm.get_global_func", True),
        ("lookup", "tvm.driver.build.hook", 9, "tvm.get_global_func", False),
    ]


def test_configured_registry_functions_replace_the_defaults():
    matcher = ToggleMatcher([], Registries(lookup=("get_global_func", "tvm.relax.call_dps_packed")))
    facts = facts_of(
        'from tvm.relax import call_dps_packed\ncall_dps_packed("runtime.disco.allreduce", [])\n', matcher=matcher
    )
    assert refs(facts, ReferenceKind.LOOKUP) == [("lookup", "runtime.disco.allreduce", 2, "call_dps_packed", False)]
    # Without it the string is still a dotted literal, for the deletion plan.
    assert refs(facts_of('call_dps_packed("runtime.disco.allreduce", [])\n')) == [
        ("literal", "runtime.disco.allreduce", 1, "", False)
    ]


# -- dotted literals and environment variables -----------------------------------------------


def test_dotted_literals_skip_docstrings_and_strings_already_recorded():
    facts = facts_of(
        '''\
        """Module docstring naming tvm.relax.training."""
        import importlib
        import tvm

        def f(name):
            """tvm.contrib.msc in a docstring."""
            x = "tvm.relax.training"
            y = f"tvm.contrib.{name}"
            z = "tvm.contrib." + name
            w = "not a name", "a b.c", "1.0", "file.py"
            importlib.import_module("tvm.relax")
            tvm.get_global_func("relax.build")
        '''
    )
    assert refs(facts, ReferenceKind.LITERAL) == [
        ("literal", "tvm.relax.training", 7, "", False),
        ("literal", "tvm.contrib.", 8, "", True),
        ("literal", "tvm.contrib.", 9, "", True),
        ("literal", "file.py", 10, "", False),
    ]
    assert [r.kind for r in facts.references if r.line in (11, 12)] == [ReferenceKind.LOOKUP]


def test_environment_variables_read_or_set():
    facts = facts_of(
        """\
        import os
        from os import environ
        a = os.environ.get("TVM_USE_MSC", "OFF")
        b = os.getenv("TVM_HOME")
        c = environ["TVM_LIBRARY_PATH"]
        d = "TVM_USE_RUNTIME_LIB" in os.environ
        os.environ["TVM_NUM_THREADS"] = "1"
        config.get("NOT_ENV")
        """
    )
    assert [(r.text, r.line) for r in facts.references if r.kind is ReferenceKind.ENVIRONMENT] == [
        ("TVM_USE_MSC", 3), ("TVM_HOME", 4), ("TVM_LIBRARY_PATH", 5), ("TVM_USE_RUNTIME_LIB", 6), ("TVM_NUM_THREADS", 7)
    ]


# -- dynamic imports ---------------------------------------------------------------------------


def test_dynamic_import_targets_resolved_from_name_and_constants():
    facts = facts_of(
        """\
        import importlib
        from importlib import import_module
        _BACKENDS = "tvm.contrib."
        importlib.import_module(f"{__name__}.helpers")
        import_module(f"{__package__}.cuda")
        importlib.import_module(_BACKENDS + "cutlass")
        importlib.import_module(f"{_BACKENDS}{name}")
        importlib.import_module(name)
        """,
        module="tvm.driver.build",
    )
    assert [(s.target, s.line) for s in facts.sites if s.kind is SiteKind.DYNAMIC] == [
        ("tvm.driver.build.helpers", 4),
        ("tvm.driver.cuda", 5),
        ("tvm.contrib.cutlass", 6),
    ]
    assert [(u.line, u.prefix) for u in facts.unresolved] == [(7, "tvm.contrib."), (8, "")]


def test_name_is_not_resolved_in_extra_root_files():
    facts = facts_of('import importlib\nimportlib.import_module(f"{__name__}.x")\n', extra=True, module="test_x")
    assert facts.sites[-1].kind is SiteKind.IMPORT and [(u.prefix) for u in facts.unresolved] == [""]


@pytest.mark.parametrize(
    "header, call",
    [
        ("import importlib.util", "importlib.util.find_spec"),
        ("import importlib", "importlib.util.find_spec"),
        ("from importlib import util", "util.find_spec"),
        ("import importlib.util as iu", "iu.find_spec"),
        ("from importlib.util import find_spec", "find_spec"),
        ("from importlib.util import find_spec as probe", "probe"),
    ],
)
def test_find_spec_imports_the_parent_and_probes_the_name(header, call):
    facts = facts_of(f'{header}\n\nSPEC = {call}("tvm.contrib.msc.core")\n')
    assert [(s.target, s.line, s.kind) for s in facts.sites if s.kind is SiteKind.DYNAMIC] == [
        ("tvm.contrib.msc", 3, SiteKind.DYNAMIC)
    ]
    assert refs(facts) == [("probe", "tvm.contrib.msc.core", 3, call, False)]


def test_find_spec_of_a_method_or_without_dot():
    facts = facts_of(
        """\
        import importlib.util
        finder.find_spec("tvm.contrib.msc")
        importlib.util.find_spec("onnx")
        importlib.util.find_spec(f"tvm.contrib.{name}")
        """
    )
    assert [s.target for s in facts.sites if s.kind is SiteKind.DYNAMIC] == []
    assert refs(facts) == [
        ("literal", "tvm.contrib.msc", 2, "", False),
        ("probe", "onnx", 3, "importlib.util.find_spec", False),
    ]
    assert [(u.line, u.prefix) for u in facts.unresolved] == [(4, "tvm.contrib.")]


# -- monkeypatches -----------------------------------------------------------------------------


def test_patches_of_imported_objects_only():
    facts = facts_of(
        """\
        import tvm
        import tvm.ir as ir
        from tvm.ir import Op
        from . import _ffi_api

        tvm.ir.Op.fuse = None
        ir.Op.count += 1
        Op.attr: int = 3
        del Op.old
        setattr(Op, "hook", None)
        delattr(tvm.ir.Op, name)
        _ffi_api.patched = True
        local = object()
        local.x = 1
        a, Op.b = 1, 2
        Op.annotated_only: int

        def enable():
            Op.lazy = True
        """,
        module="tvm.contrib.cutlass.build",
    )
    assert [(p.dotted, p.line, p.column, p.how, p.execution) for p in facts.patches] == [
        ("tvm.ir.Op.fuse", 6, 1, "assign", Execution.IMPORT),
        ("tvm.ir.Op.count", 7, 1, "augassign", Execution.IMPORT),
        ("tvm.ir.Op.attr", 8, 1, "assign", Execution.IMPORT),
        ("tvm.ir.Op.old", 9, 5, "delete", Execution.IMPORT),
        ("tvm.ir.Op.hook", 10, 1, "setattr", Execution.IMPORT),
        ("tvm.ir.Op", 11, 1, "delattr", Execution.IMPORT),
        ("tvm.contrib.cutlass._ffi_api.patched", 12, 1, "assign", Execution.IMPORT),
        ("tvm.ir.Op.b", 15, 4, "assign", Execution.IMPORT),
        ("tvm.ir.Op.lazy", 19, 5, "assign", Execution.CALL),
    ]


def test_slow_positions_give_the_same_references_and_patches(monkeypatch):
    source = (FIXTURES / "tvm_ffi/python/tvm/contrib/cutlass/build.py").read_bytes()
    source += (FIXTURES / "tvm_ffi/python/tvm/driver/build.py").read_bytes()
    fast = scan_source(source, path="x.py", module="tvm.contrib.cutlass.build", is_package=False, matcher=MATCHER)

    def no_ast(*args):
        raise scan._PositionMismatch

    monkeypatch.setattr(scan, "_AstPositions", no_ast)
    slow = scan_source(source, path="x.py", module="tvm.contrib.cutlass.build", is_package=False, matcher=MATCHER)
    assert len(fast.references) > 15 and len(fast.patches) == 4
    assert (fast.references, fast.patches, fast.sites) == (slow.references, slow.patches, slow.sites)


def test_deep_concatenation_does_not_cost_the_file():
    facts = facts_of("import tvm\ntvm.get_global_func(" + " + ".join(['"a."'] * 900) + ")\n")
    assert facts.error is None and facts.sites[0].target == "tvm"


# -- configuration -----------------------------------------------------------------------------

BASE = """\
[tool.scopeguard]
source_roots = ["python"]

[[tool.scopeguard.scopes]]
name = "tvm.relax"
"""


def _config(tmp_path, extra: str):
    (tmp_path / "python" / "tvm" / "relax").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(BASE + extra)
    return load_config(tmp_path / "pyproject.toml")


def test_ffi_prefixes_and_registries_are_read(tmp_path):
    config = _config(tmp_path, 'ffi_prefixes = ["relax."]\n\n[tool.scopeguard.registries]\nlookup = ["get_global_func", "call_dps_packed"]\n')
    assert config.scopes[0].ffi_prefixes == ("relax.",)
    assert config.scopes[0].owned_prefixes == ("tvm.relax.", "relax.")
    assert config.registries == Registries(lookup=("get_global_func", "call_dps_packed"))
    assert config.registries.register == Registries().register  # keys not given keep TVM's defaults


@pytest.mark.parametrize(
    "extra, key, problem",
    [
        ('ffi_prefixes = "relax."\n', "scopes[0].ffi_prefixes", "expected a list of strings"),
        ('ffi_prefixes = ["relax x"]\n', "scopes[0].ffi_prefixes[0]", "is not a registry name prefix"),
        ('ffi_prefix = ["relax."]\n', "scopes[0].ffi_prefix", "did you mean 'ffi_prefixes'?"),
        ("\n[tool.scopeguard.registries]\nlookups = []\n", "registries.lookups", "did you mean 'lookup'?"),
        ('\n[tool.scopeguard.registries]\nlookup = ["get global"]\n', "registries.lookup[0]", "is not a function name"),
        ('\n[tool.scopeguard.registries]\nlookup = ["tvm.register_func"]\n', "registries.lookup[0]",
         "'register_func' is both a register and a lookup function"),
        ("\n[tool.scopeguard]\n", "toml", "invalid TOML"),
        ('ffi_prefixes = ["x."]\n\n[[tool.scopeguard.scopes]]\nname = "tvm.ir"\nffi_prefixes = ["x."]\n',
         "scopes[1].ffi_prefixes[0]", "registry prefix 'x.' is owned by scopes[0] (tvm.relax) already"),
    ],
)
def test_bad_coupling_config_is_a_located_error(tmp_path, extra, key, problem):
    (tmp_path / "python" / "tvm" / "ir").mkdir(parents=True)
    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, extra)
    assert caught.value.key == (key if key == "toml" else "tool.scopeguard." + key)
    assert problem in str(caught.value)
    assert caught.value.line > 0


# -- the rules on the TVM-shaped fixture ------------------------------------------------------


def test_fixture_findings():
    config = load_config(FIXTURES / "tvm_ffi" / "pyproject.toml")
    found = [(v.code, v.path, v.line, v.imported, v.scope) for v in analyse(config, select=list(NEW_CODES)).violations]
    build = "python/tvm/driver/build.py"
    cutlass = "python/tvm/contrib/cutlass/build.py"
    assert found == [
        ("SG404", "pyproject.toml", 33, "", "tvm.contrib.msc"),
        # A scope registering names that are not its own (one unowned, one of tvm.relax).
        ("SG102", cutlass, 28, "tvm.ir.cutlass_hook", "tvm.contrib.cutlass"),
        ("SG102", cutlass, 31, "relax.CutlassAttrs", "tvm.contrib.cutlass"),
        # Scope code looking up another scope's name it does not declare in `uses`.
        ("SG207", cutlass, 37, "msc.core.run", "tvm.contrib.msc"),
        # Monkeypatching at import time (the one in a function and the one on its own module are fine).
        ("SG103", cutlass, 40, "tvm.ir.Op", "tvm.contrib.cutlass"),
        ("SG103", cutlass, 41, "tvm.ir.Op", "tvm.contrib.cutlass"),
        ("SG207", "python/tvm/driver/_ffi_api.py", 3, "relax.transform", "tvm.relax"),
        ("SG207", build, 12, "relax.transform.fuse_ops", "tvm.relax"),
        ("SG208", build, 16, "", ""),
        ("SG207", build, 22, "contrib.cutlass.compile", "tvm.contrib.cutlass"),
        ("SG207", build, 32, "relax.ext.", "tvm.relax"),
        ("SG208", build, 46, "", ""),
        ("SG207", build, 50, "relax.vm.alloc", "tvm.relax"),
        ("SG207", "tests/python/test_driver.py", 5, "relax.transform.fuse_ops", "tvm.relax"),
    ]


def test_fixture_dynamic_imports_reach_the_existing_rules():
    config = load_config(FIXTURES / "tvm_ffi" / "pyproject.toml")
    found = [(v.code, v.line, v.scope) for v in analyse(config, select=["SG205", "SG206"]).violations]
    # _BACKENDS + name may be any contrib scope; find_spec("tvm.contrib.msc.core") imports tvm.contrib.msc.
    assert found == [
        ("SG206", 36, "tvm.contrib.cutlass"),
        ("SG206", 36, "tvm.contrib.msc"),
        ("SG205", 54, "tvm.contrib.msc"),
    ]


def test_registries_are_part_of_the_scan_key(tmp_path):
    from scopeguard.collect.cache import Cache

    one = _config(tmp_path, "")
    (tmp_path / "pyproject.toml").write_text(BASE + '\n[tool.scopeguard.registries]\nlookup = ["find_func"]\n')
    two = load_config(tmp_path / "pyproject.toml")
    assert Cache(tmp_path / "c", one).scan_key != Cache(tmp_path / "c", two).scan_key


def _registering_project(tmp_path, relax_prefixes: str):
    tmp_path.mkdir()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.scopeguard]\nsource_roots = [\"python\"]\n\n[tool.scopeguard.toggles.relax]\non_when_true = [\"USE_RELAX\"]\n\n"
        f"[[tool.scopeguard.scopes]]\nname = \"tvm.relax\"\ntoggle = \"relax\"\n{relax_prefixes}\n"
        "[[tool.scopeguard.scopes]]\nname = \"tvm.contrib.msc\"\ntoggle = \"relax\"\nffi_prefixes = [\"msc.\"]\n"
    )
    for package in ("tvm", "tvm/relax", "tvm/contrib", "tvm/contrib/msc"):
        (tmp_path / "python" / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / "python" / package / "__init__.py").write_text("")
    (tmp_path / "python/tvm/relax/op.py").write_text(
        'import tvm_ffi\n\ntvm_ffi.register_global_func("relax.op.add", print)\n'
        'tvm_ffi.register_global_func("msc.core.run", print)\n'
    )
    config = load_config(tmp_path / "pyproject.toml")
    return [(v.code, v.line, v.imported) for v in analyse(config, select=["SG102"]).violations]


def test_unowned_names_are_foreign_only_once_the_scope_declares_its_prefixes(tmp_path):
    # Without ffi_prefixes, TVM's own `relax.*` names cannot be told from foreign ones: only the
    # name another scope owns is reported.
    assert _registering_project(tmp_path / "a", "") == [("SG102", 4, "msc.core.run")]
    declared = _registering_project(tmp_path / "b", 'ffi_prefixes = ["relax.transform."]\n')
    assert declared == [("SG102", 3, "relax.op.add"), ("SG102", 4, "msc.core.run")]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_prefilter_finds_what_a_full_walk_finds(newline, monkeypatch):
    # The name collector skips statements whose lines hold no quote, registry call, setattr or
    # environment read; with every line ending Python accepts, nothing may be lost by that.
    source = newline.join([
        "import os",
        "import tvm",
        "from tvm.ir import Op",
        "NAME = 'relax.build'",
        "@tvm.register_func(",
        "    NAME + '.x')",
        "def build(mod):",  # no line of the def itself can hold a name: only its decorator's
        "    return mod",
        "def run(mod):",
        "    f = tvm.get_global_func(NAME)",
        "    setattr(Op, attribute, f)",
        "    return os.environ[KEY], f'tvm.contrib.{mod}'",
        "",
    ]).encode()

    def facts(filtered):
        if not filtered:
            monkeypatch.setattr(scan, "_lines_matching", lambda source, pattern: None)
        return scan_source(source, path="x.py", module="tvm.driver.build", is_package=False, matcher=MATCHER)

    with_filter = facts(True)
    without = facts(False)
    assert with_filter.references == without.references and with_filter.patches == without.patches
    assert [(r.kind.value, r.text, r.line) for r in with_filter.references] == [
        ("literal", "relax.build", 4),
        ("register", "relax.build.x", 5),
        ("lookup", "relax.build", 10),
        ("literal", "tvm.contrib.", 12),
    ]
    assert [(p.dotted, p.line) for p in with_filter.patches] == [("tvm.ir.Op", 11)]


def test_a_lookup_whose_failure_is_caught_is_optional_and_an_import_there_is_not():
    # TVM's other "maybe missing" idiom: try: get_global_func(...) except ValueError: ...
    facts = facts_of(
        """\
        import tvm

        def clear():
            try:
                f = tvm.get_global_func("relax.clear")
                import tvm.relax
            except (ValueError, AttributeError):
                pass

        def strict():
            try:
                return tvm.get_global_func("relax.build")
            except ValueError as error:
                raise RuntimeError("relax is off") from error

        try:
            def later():
                return tvm.get_global_func("relax.later")
        except ValueError:
            pass
        """
    )
    lookups = {r.text: r.is_optional for r in facts.references if r.kind is ReferenceKind.LOOKUP}
    # Caught: optional. Re-raised: not. A try around a `def` does not protect the call later.
    assert lookups == {"relax.clear": True, "relax.build": False, "relax.later": False}
    (site,) = [s for s in facts.sites if s.target == "tvm.relax"]
    assert not site.is_optional  # ValueError does not catch a failed import
