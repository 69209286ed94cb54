"""facts.toggle_matcher: the configured toggles (spellings, OFF values, decorators, registries) and
the per-file view it hands out."""

from __future__ import annotations

import libcst as cst

from scopeguard.base.model import ReferenceKind, Registries, Toggle
from scopeguard.facts.bindings import FileBindings
from scopeguard.facts.toggle_knowledge import FileToggles
from scopeguard.facts.toggle_matcher import ToggleMatcher

TOGGLES = (
    Toggle("a", on_when_true=("USE_A", "PKG_USE_A"), decorators=("pkg.testing.requires_a",)),
    Toggle("b", on_when_false=("NO_B",), off_values=(" OFF ", "No")),
)


def test_the_tables_of_spellings_off_words_and_decorators():
    matcher = ToggleMatcher(TOGGLES)
    assert matcher.toggles == TOGGLES
    assert matcher.spellings == {"USE_A": ("a", True), "PKG_USE_A": ("a", True), "NO_B": ("b", False)}
    assert matcher.off_words == {"a": frozenset({"", "0", "off", "false", "no"}), "b": frozenset({"off", "no"})}
    assert matcher.decorators == {"pkg.testing.requires_a": "a"}
    assert matcher.decorator_names == {"requires_a": "a"}
    # Registries() by default: TVM's registry functions.
    assert matcher.registry_kinds == {
        "register_func": ReferenceKind.REGISTER, "register_global_func": ReferenceKind.REGISTER,
        "register_object": ReferenceKind.REGISTER, "get_global_func": ReferenceKind.LOOKUP,
        "_init_api": ReferenceKind.INIT_API, "init_ffi_api": ReferenceKind.INIT_API,
    }


def test_registry_functions_by_their_last_name_and_the_name_pattern():
    matcher = ToggleMatcher([], Registries(register=("tvm.register_func",), lookup=("get_global_func",),
                                           init_api=("tvm._ffi.init_api",)))
    assert matcher.registry_kinds == {"register_func": ReferenceKind.REGISTER,
                                      "get_global_func": ReferenceKind.LOOKUP, "init_api": ReferenceKind.INIT_API}
    assert matcher.name_pattern.search(b"x = get_global_func") is not None
    assert matcher.name_pattern.search(b"os.getenv") is not None
    assert matcher.name_pattern.search(b"x = 'a'") is not None
    assert matcher.name_pattern.search(b"import os") is None


def test_spelled_in():
    matcher = ToggleMatcher(TOGGLES)
    assert matcher.spelled_in(b"if NO_B:\n    pass\n") is True
    assert matcher.spelled_in(b"@requires_a\ndef f(): pass\n") is True
    assert matcher.spelled_in(b"import os\n") is False
    assert ToggleMatcher([]).spelled_in(b"USE_A") is False


def test_for_file_binds_names_only_where_a_toggle_may_be_read():
    matcher = ToggleMatcher(TOGGLES)
    quiet = b"import os\n"
    view = matcher.for_file(cst.parse_module(quiet), quiet, "pkg.m", False)
    assert isinstance(view, FileToggles) and view.matcher is matcher and view.bindings is None
    for source in (b"from pkg import USE_A\nif USE_A:\n    import m\n", b"if TYPE_CHECKING:\n    import m\n",
                   b'if __name__ == "__main__":\n    pass\n'):
        view = matcher.for_file(cst.parse_module(source), source, "pkg.m", False)
        assert isinstance(view.bindings, FileBindings), source


def test_the_questions_without_a_file_read_names_as_spelled():
    matcher = ToggleMatcher(TOGGLES)
    assert matcher.implies(cst.parse_expression("USE_A and not NO_B"), True) == {"a": True, "b": True}
    assert matcher.implies(cst.parse_expression("PKG_USE_A"), False) == {"a": False}
    assert matcher.mentioned(cst.parse_expression("USE_A or NO_B")) == frozenset({"a", "b"})
    decorator = cst.parse_module("@requires_a\ndef f():\n    pass\n").body[0].decorators[0]
    assert matcher.decorator_toggles(decorator) == {"a": True}
