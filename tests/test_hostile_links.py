"""Files scopeguard reads by a fixed name — packaging files, CMake files, the configuration —
are never read through a symlink leading outside the project, as a linked source file leading
outside is not: packaging and CMake files are skipped with a note saying so, a configuration is
refused (exit 2) with what to do."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scopeguard.rules.base import EXAMPLE_FILES, EXAMPLE_PYPROJECT

from .inprocess import run_main

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")

MANIFEST = "recursive-include python/tvm/relax *.py\n"


def project(tmp_path: Path) -> tuple[Path, Path]:
    """The rule examples' project in tmp_path/proj, and a folder beside it (outside it)."""
    root, outside = tmp_path / "proj", tmp_path / "outside"
    for path, text in {**EXAMPLE_FILES, "pyproject.toml": EXAMPLE_PYPROJECT}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    outside.mkdir()
    return root, outside


def findings(root: Path, *args: str) -> tuple[int, list[tuple[str, int, str]], str]:
    code, out, err = run_main("check", ".", "--no-cache", "--format", "json", *args, cwd=root)
    assert code in (0, 1), err
    return code, [(v["path"], v["line"], v["code"]) for v in json.loads(out)["violations"]], err


def test_packaging_files_linked_outside_are_skipped_with_a_note(tmp_path):
    root, outside = project(tmp_path)
    (outside / "MANIFEST.in").write_text(MANIFEST)
    (outside / "setup.cfg").write_text("[options]\npackages = tvm.relax\n")
    os.symlink(outside / "MANIFEST.in", root / "MANIFEST.in")
    os.symlink("../../outside/setup.cfg", root / "python" / "setup.cfg")
    code, found, err = findings(root, "--select", "SG303")
    assert (code, found) == (0, [])
    notes = [line for line in err.splitlines() if line.startswith("scopeguard: note:")]
    assert notes == [
        f"scopeguard: note: MANIFEST.in is a symlink to {outside / 'MANIFEST.in'}, outside the project: this packaging "
        "file is not read (SG303 and delete-plan do not see a scope it names); replace the link by the file itself",
        f"scopeguard: note: python/setup.cfg is a symlink to {outside / 'setup.cfg'}, outside the project: this packaging "
        "file is not read (SG303 and delete-plan do not see a scope it names); replace the link by the file itself",
    ]
    # delete-plan reads the same list: the same note, and the file is not offered for editing.
    code, out, err = run_main("delete-plan", "tvm.relax", ".", "--no-cache", cwd=root)
    assert "MANIFEST.in is a symlink to" in err and "MANIFEST.in" not in out
    # Linked inside the project, the same files are read.
    (root / "MANIFEST.in").unlink()
    (root / "packaging").mkdir()
    (root / "packaging" / "MANIFEST.in").write_text(MANIFEST)
    os.symlink("packaging/MANIFEST.in", root / "MANIFEST.in")
    code, found, err = findings(root, "--select", "SG303")
    assert found == [("MANIFEST.in", 1, "SG303")]
    assert "MANIFEST.in is a symlink" not in err


def test_cmake_files_linked_outside_are_skipped_with_a_note(tmp_path):
    root, outside = project(tmp_path)
    (root / "cmake").mkdir()
    (root / "cmake" / "config.cmake").write_text("set(USE_CUDA OFF)\n")  # a CMake project
    (outside / "CMakeLists.txt").write_text('tvm_option(USE_MSC "Build with MSC" OFF)\n')
    (root / "cmake" / "modules").mkdir()
    os.symlink(outside / "CMakeLists.txt", root / "CMakeLists.txt")
    os.symlink(outside / "CMakeLists.txt", root / "cmake" / "modules" / "MSC.cmake")
    _, found, err = findings(root, "--select", "SG404")
    # USE_MSC is not read from the linked files: toggle msc has no switch (pyproject.toml line 20).
    assert ("pyproject.toml", 20, "SG404") in found
    assert f"scopeguard: note: CMakeLists.txt is a symlink to {outside / 'CMakeLists.txt'}, outside the project: " \
           "this CMake file is not read (SG404 does not see the options it sets)" in err
    assert "scopeguard: note: cmake/modules/MSC.cmake is a symlink to" in err
    # A linked cmake folder leading outside is not even walked (a link to / would walk the machine).
    (root / "cmake" / "config.cmake").unlink()
    (root / "cmake" / "modules" / "MSC.cmake").unlink()
    (root / "cmake" / "modules").rmdir()
    (root / "cmake").rmdir()
    os.symlink(os.path.abspath(os.sep), root / "cmake")
    _, _, err = findings(root, "--select", "SG404")
    assert f"scopeguard: note: cmake is a symlink to {os.path.abspath(os.sep)}, outside the project: this folder's " \
           "CMake files are not read" in err
    # Read when the link stays inside.
    (root / "CMakeLists.txt").unlink()
    (root / "cmake").unlink()
    (root / "build").mkdir()
    (root / "build" / "options.cmake").write_text('tvm_option(USE_MSC "Build with MSC" OFF)\n')
    os.symlink("build/options.cmake", root / "CMakeLists.txt")
    _, found, err = findings(root, "--select", "SG404")
    assert ("pyproject.toml", 20, "SG404") not in found and "note:" not in err


def test_a_configuration_linked_outside_exits_2_naming_it(tmp_path):
    root, outside = project(tmp_path)
    (outside / "pyproject.toml").write_text(EXAMPLE_PYPROJECT)
    (root / "pyproject.toml").unlink()
    os.symlink(outside / "pyproject.toml", root / "pyproject.toml")
    expected = (
        f"scopeguard: error: {root / 'pyproject.toml'}: tool.scopeguard: the file is a symlink to {outside / 'pyproject.toml'}, "
        f"outside the project folder {root}; scopeguard does not read a configuration from outside the project it "
        "checks; replace the link by a copy of the file, or pass --config with the real file's path (the project "
        "root is the folder that holds the configuration)\n"
    )
    code, out, err = run_main("check", ".", "--no-cache", cwd=root)
    assert (code, out, err) == (2, "", expected)
    code, out, err = run_main("check", ".", "--no-cache", "--config", "pyproject.toml", cwd=root)
    assert (code, out, err) == (2, "", expected)
    # The search stops at it: an enclosing project's configuration is not used instead.
    (tmp_path / "pyproject.toml").write_text('[tool.scopeguard]\nsource_roots = ["proj/python"]\n')
    code, out, err = run_main("check", ".", "--no-cache", cwd=root)
    assert (code, out, err) == (2, "", expected)
    # A link into a file of the project is a configuration like any other.
    (root / "pyproject.toml").unlink()
    (root / "conf").mkdir()
    (root / "conf" / "scopeguard.toml").write_text(EXAMPLE_PYPROJECT)
    os.symlink("conf/scopeguard.toml", root / "pyproject.toml")
    code, out, _ = run_main("check", ".", "--no-cache", cwd=root)
    assert code == 0 and out.startswith("No violations;")


def test_a_configuration_linked_to_a_device_or_a_fifo_exits_2_without_reading(tmp_path):
    root, _ = project(tmp_path)
    (root / "pyproject.toml").unlink()
    os.symlink(os.devnull, root / "pyproject.toml")  # outside the project, and no regular file
    code, _, err = run_main("check", ".", "--no-cache", cwd=root)
    assert code == 2 and f"the file is a symlink to {os.devnull}, outside the project folder" in err
