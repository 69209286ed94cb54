"""The build side of a toggle: CMake options and environment variables (SG404)."""

from __future__ import annotations

import shutil

from scopeguard.collect import buildopts
from scopeguard.collect.cache import Cache
from scopeguard.config import load_config
from scopeguard.base.model import BuildOption, Toggle
from scopeguard.run.pipeline import analyse

from .conftest import FIXTURES


def test_parse_cmake_set_option_and_tvm_option():
    text = (
        "# Whether to build MSC\n"
        "set(USE_MSC OFF)\n"
        "  SET( USE_CUDA  ON )\n"
        '# set(USE_COMMENTED OFF)\n'
        'tvm_option(USE_CUTLASS "Build with CUTLASS" OFF)\n'
        'option(BUILD_TESTING "tests" ON)\n'
        'message(STATUS "set(USE_NOT_AN_OPTION ON)")\n'
    )
    assert buildopts.parse_cmake(text, "cmake/config.cmake") == [
        BuildOption("USE_MSC", "cmake/config.cmake", 2, "set", "OFF"),
        BuildOption("USE_CUDA", "cmake/config.cmake", 3, "set", "ON"),
        BuildOption("USE_CUTLASS", "cmake/config.cmake", 5, "tvm_option", '"Build with CUTLASS" OFF'),
        BuildOption("BUILD_TESTING", "cmake/config.cmake", 6, "option", '"tests" ON'),
    ]


def test_cmake_files_are_the_root_ones_and_those_under_cmake(tmp_path):
    for path in ("CMakeLists.txt", "toolchain.cmake", "cmake/config.cmake", "cmake/modules/CUDA.cmake",
                 "3rdparty/dep/CMakeLists.txt", "src/CMakeLists.txt", "cmake/notes.txt"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("set(X ON)\n")
    assert buildopts.cmake_files(str(tmp_path)) == [
        "CMakeLists.txt", "toolchain.cmake", "cmake/config.cmake", "cmake/modules/CUDA.cmake"
    ]
    assert buildopts.cmake_files(str(tmp_path / "missing")) == []


def test_is_cmake_path_names_the_files_cmake_files_lists(tmp_path):
    # check --diff asks it of files that exist only at BASE; it must agree with the walk.
    paths = ["CMakeLists.txt", "toolchain.cmake", "cmake/config.cmake", "cmake/modules/CUDA.cmake",
             "3rdparty/dep/CMakeLists.txt", "src/CMakeLists.txt", "cmake/notes.txt", "cmake/.hidden/x.cmake",
             "cmake/__pycache__/x.cmake", "notes.txt", "cmakelists.txt"]
    for path in paths:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("set(X ON)\n")
    listed = buildopts.cmake_files(str(tmp_path))
    assert listed == ["CMakeLists.txt", "toolchain.cmake", "cmake/config.cmake", "cmake/modules/CUDA.cmake"]
    assert [p for p in paths if buildopts.is_cmake_path(p)] == listed


def test_backing_by_option_or_environment():
    options = [BuildOption("USE_CUTLASS", "cmake/config.cmake", 2, "set", "OFF")]
    environment = {"TVM_USE_RUNTIME_LIB": [("python/tvm/base.py", 33)]}
    cutlass = Toggle("cutlass", on_when_true=("USE_CUTLASS", "has_cutlass"))
    relax = Toggle("relax", on_when_false=("_RUNTIME_ONLY", "TVM_USE_RUNTIME_LIB"))
    msc = Toggle("msc", on_when_true=("USE_MSC",), decorators=("tvm.testing.requires_msc",))
    assert buildopts.backing(cutlass, options, environment) == (options, [])
    assert buildopts.backing(relax, options, environment) == ([], ["TVM_USE_RUNTIME_LIB"])
    assert buildopts.backing(msc, options, environment) == ([], [])


def test_sg404_follows_the_cmake_files_through_the_result_cache(tmp_path):
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "tvm_ffi", project)
    config = load_config(project / "pyproject.toml")
    cache = tmp_path / "cache"

    def run():
        return analyse(config, select=["SG404"], cache=Cache(cache, config), jobs=1)

    first = run()
    assert [(v.line, v.scope) for v in first.violations] == [(33, "tvm.contrib.msc")]
    assert run().from_cache
    with open(project / "cmake" / "config.cmake", "a") as handle:
        handle.write("set(USE_MSC OFF)\n")
    after = run()
    assert not after.from_cache and after.violations == ()


def test_sg404_is_silent_in_projects_not_built_with_cmake(tmp_path):
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "tvm_ffi", project)
    shutil.rmtree(project / "cmake")
    (project / "CMakeLists.txt").unlink()
    config = load_config(project / "pyproject.toml")
    assert analyse(config, select=["SG404"], jobs=1).violations == ()
