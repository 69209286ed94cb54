"""discover.py: which files are scanned and the module names they get."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from scopeguard.collect.discover import ExcludeMatcher, ModuleFile, discover, module_names
from scopeguard.base.model import Config


def make(root: Path, *paths: str) -> None:
    for path in paths:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("", encoding="utf-8")


def config(root: Path, source_roots=("src",), extra_roots=(), exclude=()) -> Config:
    return Config(root=str(root), config_path="", source_roots=tuple(source_roots),
                  extra_roots=tuple(extra_roots), exclude=tuple(exclude))


def mf(root: Path, path: str, module: str, is_package: bool = False, extra: bool = False) -> ModuleFile:
    return ModuleFile(path=path, abspath=str(root / path), module=module, is_package=is_package, extra=extra)


def summary(files) -> list[tuple[str, str, bool, bool]]:
    return [(f.path, f.module, f.is_package, f.extra) for f in files]


def test_src_layout(tmp_path):
    make(tmp_path, "src/pkg/__init__.py", "src/pkg/a.py", "src/pkg/sub/__init__.py", "src/pkg/sub/b.py",
         "src/pkg/data.txt", "src/pkg/stub.pyi", "setup.py")
    assert discover(config(tmp_path)) == (
        mf(tmp_path, "src/pkg/__init__.py", "pkg", is_package=True),
        mf(tmp_path, "src/pkg/a.py", "pkg.a"),
        mf(tmp_path, "src/pkg/sub/__init__.py", "pkg.sub", is_package=True),
        mf(tmp_path, "src/pkg/sub/b.py", "pkg.sub.b"),
    )


def test_python_layout_with_build_excluded(tmp_path):
    make(tmp_path, "python/tvm/__init__.py", "python/tvm/relax/__init__.py", "python/tvm/relax/op.py",
         "python/_build/x.py", "python/tvm/_build/deep/y.py", "python/tvm/_builder.py")
    files = discover(config(tmp_path, source_roots=["python"], exclude=["**/_build/**"]))
    assert summary(files) == [
        ("python/tvm/__init__.py", "tvm", True, False),
        ("python/tvm/_builder.py", "tvm._builder", False, False),
        ("python/tvm/relax/__init__.py", "tvm.relax", True, False),
        ("python/tvm/relax/op.py", "tvm.relax.op", False, False),
    ]


def test_dot_layout_skips_hidden_cache_vendor_and_venv_dirs(tmp_path):
    make(tmp_path, "setup.py", "pkg/__init__.py", "pkg/.hidden/x.py", ".tox/y.py", "pkg/__pycache__/z.py",
         "web/node_modules/w.py", "env/pyvenv.cfg", "env/lib/site.py", "pkg/env/pyvenv.cfg", "pkg/env/v.py")
    assert summary(discover(config(tmp_path, source_roots=["."]))) == [
        ("pkg/__init__.py", "pkg", True, False),
        ("setup.py", "setup", False, False),
    ]


def test_namespace_package_contributes_its_name(tmp_path):
    make(tmp_path, "src/ns/pkg/mod.py", "src/ns/pkg/sub/__init__.py")
    files = discover(config(tmp_path))
    assert summary(files) == [
        ("src/ns/pkg/mod.py", "ns.pkg.mod", False, False),
        ("src/ns/pkg/sub/__init__.py", "ns.pkg.sub", True, False),
    ]
    assert module_names(files) == {"ns", "ns.pkg", "ns.pkg.mod", "ns.pkg.sub"}


def test_root_level_init_has_no_module_name(tmp_path):
    make(tmp_path, "lib/__init__.py", "lib/m.py")
    assert summary(discover(config(tmp_path, source_roots=["lib"]))) == [("lib/m.py", "m", False, False)]


def test_extra_roots_are_named_from_their_own_root(tmp_path):
    make(tmp_path, "python/tvm/__init__.py", "tests/python/relax/test_x.py", "tests/python/conftest.py",
         "tests/scripts/run.py")
    files = discover(config(tmp_path, source_roots=["python"], extra_roots=["tests/python"]))
    assert files == (
        mf(tmp_path, "python/tvm/__init__.py", "tvm", is_package=True),
        mf(tmp_path, "tests/python/conftest.py", "conftest", extra=True),
        mf(tmp_path, "tests/python/relax/test_x.py", "relax.test_x", extra=True),
    )
    assert module_names(files) == {"tvm"}


def test_extra_files_are_never_dropped_for_their_name(tmp_path):
    # Importers only: two conftest.py files are two files to check, whatever their names.
    make(tmp_path, "src/pkg/__init__.py", "tests/a/conftest.py", "tests/b/conftest.py",
         "tests/b/pkg/__init__.py")
    files = discover(config(tmp_path, extra_roots=["tests/a", "tests/b"]))
    assert summary(files) == [
        ("src/pkg/__init__.py", "pkg", True, False),
        ("tests/a/conftest.py", "conftest", False, True),
        ("tests/b/conftest.py", "conftest", False, True),
        ("tests/b/pkg/__init__.py", "pkg", True, True),
    ]


def test_file_under_source_and_extra_root_is_a_source_file(tmp_path):
    make(tmp_path, "pkg/__init__.py", "tests/test_a.py")
    files = discover(config(tmp_path, source_roots=["."], extra_roots=["tests"]))
    assert summary(files) == [
        ("pkg/__init__.py", "pkg", True, False),
        ("tests/test_a.py", "tests.test_a", False, False),
    ]


def test_overlapping_source_roots_list_a_file_once(tmp_path):
    make(tmp_path, "src/pkg/a.py")
    files = discover(config(tmp_path, source_roots=["src", "src/pkg"]))
    assert summary(files) == [("src/pkg/a.py", "pkg.a", False, False)]


def test_package_shadows_module_of_the_same_name(tmp_path):
    make(tmp_path, "src/a.py", "src/a/__init__.py", "src/a/b.py")
    assert summary(discover(config(tmp_path))) == [
        ("src/a/__init__.py", "a", True, False),
        ("src/a/b.py", "a.b", False, False),
    ]


def test_first_source_root_wins(tmp_path):
    make(tmp_path, "one/m.py", "two/m.py", "one/a.py", "two/a/__init__.py", "two/only.py")
    assert summary(discover(config(tmp_path, source_roots=["one", "two"]))) == [
        ("one/a.py", "a", False, False),
        ("one/m.py", "m", False, False),
        ("two/only.py", "only", False, False),
    ]


def test_excludes_with_every_wildcard(tmp_path):
    make(tmp_path, "src/pkg/__init__.py", "src/pkg/gen_a.py", "src/pkg/gen_bb.py", "src/pkg/x/tests/t.py",
         "src/pkg/keep.py", "src/vendored/lib.py")
    files = discover(config(tmp_path, exclude=["src/pkg/gen_?.py", "**/tests/", "src/vendored"]))
    assert summary(files) == [
        ("src/pkg/__init__.py", "pkg", True, False),
        ("src/pkg/gen_bb.py", "pkg.gen_bb", False, False),
        ("src/pkg/keep.py", "pkg.keep", False, False),
    ]


def test_excluded_root_yields_nothing(tmp_path):
    make(tmp_path, "src/pkg/a.py", "tests/python/t.py")
    files = discover(config(tmp_path, extra_roots=["tests/python"], exclude=["tests/**"]))
    assert summary(files) == [("src/pkg/a.py", "pkg.a", False, False)]


def test_missing_root_yields_nothing(tmp_path):
    assert discover(config(tmp_path, source_roots=["gone"])) == ()


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="needs symlinks")
def test_symlink_loop_terminates(tmp_path):
    make(tmp_path, "src/pkg/__init__.py", "src/pkg/a.py")
    os.symlink("..", tmp_path / "src" / "pkg" / "loop")  # src/pkg/loop -> src
    os.symlink("a.py", tmp_path / "src" / "pkg" / "alias.py")  # a file link is still a file
    os.symlink("missing.py", tmp_path / "src" / "pkg" / "dangling.py")
    assert summary(discover(config(tmp_path))) == [
        ("src/pkg/__init__.py", "pkg", True, False),
        ("src/pkg/a.py", "pkg.a", False, False),
        ("src/pkg/alias.py", "pkg.alias", False, False),
    ]


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs a file system that stores any bytes")
def test_undecodable_file_names_do_not_crash(tmp_path):
    make(tmp_path, "src/pkg/__init__.py")
    folder = os.fsencode(tmp_path / "src" / "pkg")
    os.mkdir(folder + b"/d\xff")
    for name in (b"/caf\xe9.py", b"/d\xff/m.py"):
        with open(folder + name, "wb"):
            pass
    files = discover(config(tmp_path, exclude=["**/nothing"]))
    assert summary(files) == [
        ("src/pkg/__init__.py", "pkg", True, False),
        ("src/pkg/caf\\xe9.py", "pkg.caf\\xe9", False, False),
        ("src/pkg/d\\xff/m.py", "pkg.d\\xff.m", False, False),
    ]
    # The printable names encode anywhere; abspath keeps the raw name so the file can be opened.
    json.dumps([f.path + f.module for f in files], ensure_ascii=False).encode("utf-8")
    assert os.path.isfile(files[1].abspath)
    assert module_names(files) == {"pkg", "pkg.caf\\xe9", "pkg.d\\xff", "pkg.d\\xff.m"}


MATCHES = [
    # pattern, path, excluded
    ("**/_build/**", "python/_build/x.py", True),
    ("**/_build/**", "_build/x.py", True),
    ("**/_build/**", "python/tvm/_build/a/b.py", True),
    ("**/_build/**", "python/_builder.py", False),
    ("_build", "python/tvm/_build/x.py", True),  # a bare name matches at any depth
    ("_build", "python/tvm/_build.py", False),
    ("build/", "build/x.py", True),  # a trailing slash matches folders only
    ("x.py/", "a/x.py", False),
    ("*.py", "deep/down/x.py", True),
    ("src/*.py", "src/x.py", True),
    ("src/*.py", "src/pkg/x.py", False),  # `*` stays inside one part
    ("src/*", "src/pkg/x.py", True),  # ... but matches the folder src/pkg
    ("src/?.py", "src/a.py", True),
    ("src/?.py", "src/ab.py", False),
    ("src/**/test_*.py", "src/test_a.py", True),
    ("src/**/test_*.py", "src/a/b/test_a.py", True),
    ("src/**/test_*.py", "other/src/test_a.py", False),  # a slash anchors at the root
    ("/setup.py", "setup.py", True),
    ("/setup.py", "pkg/setup.py", False),
    ("./docs/**", "docs/conf.py", True),
    ("gen_[ab].py", "pkg/gen_a.py", True),
    ("gen_[!ab].py", "pkg/gen_a.py", False),
    ("gen_[!ab].py", "pkg/gen_c.py", True),
    ("a+b(c).py", "a+b(c).py", True),  # regex characters are literal
    ("**", "anything/at/all.py", True),
]


@pytest.mark.parametrize(("pattern", "path", "excluded"), MATCHES)
def test_exclude_matcher(pattern, path, excluded):
    assert ExcludeMatcher([pattern])(path) is excluded
