"""Packaging and CMake files as facts: the pipeline reads them, caches their facts by content with
the Python files' facts, and hands them to SG303/SG404 through the Project; the rules read no file."""

from __future__ import annotations

import shutil

import pytest

from scopeguard.run import pipeline
from scopeguard.collect.cache import Cache
from scopeguard.config import load_config
from scopeguard.analysis.graph import ImportGraph
from scopeguard.base.model import BuildFacts, BuildOption, CMakeFacts, PackagingFacts, PackagingText, ScanSettings
from scopeguard.run.pipeline import analyse, build_facts_of, collect
from scopeguard.rules import Project
from scopeguard.rules.deletion import PackagingNamesScope
from scopeguard.rules.toggle import ToggleWithoutSwitch

from .conftest import FIXTURES


@pytest.fixture
def project(tmp_path):
    target = tmp_path / "proj"
    shutil.copytree(FIXTURES / "tvm_ffi", target, ignore=shutil.ignore_patterns(".scopeguard_cache"))
    (target / "MANIFEST.in").write_text("include README.md\nrecursive-include python/tvm/contrib/msc *.py\n")
    return target


def _findings(violations):
    return [(v.code, v.path, v.line, v.scope) for v in violations]


def test_the_pipeline_collects_packaging_and_cmake_facts(project):
    facts = collect(load_config(project / "pyproject.toml"))
    assert [f.path for f in facts.build.cmake] == ["CMakeLists.txt", "cmake/config.cmake"]
    assert facts.build.cmake[1] == CMakeFacts("cmake/config.cmake", (
        BuildOption("USE_CUTLASS", "cmake/config.cmake", 2, "set", "OFF"),
        BuildOption("USE_CUDA", "cmake/config.cmake", 5, "set", "OFF"),
    ))
    assert [f.path for f in facts.build.packaging] == ["pyproject.toml", "MANIFEST.in"]
    # Facts hold what the file says, whatever the scopes: every line but comments and blanks.
    assert facts.build.packaging[1] == PackagingFacts("MANIFEST.in", (
        PackagingText(1, "include README.md", "include README.md", "MANIFEST.in names the scope's files"),
        PackagingText(2, "recursive-include python/tvm/contrib/msc *.py", "recursive-include python/tvm/contrib/msc *.py",
                      "MANIFEST.in names the scope's files"),
    ))
    # The [tool.scopeguard] tables declare the scopes: not recorded at all.
    assert [t.line for t in facts.build.packaging[0].texts] == []


def test_rules_read_the_facts_they_are_given_and_no_file(project):
    config = load_config(project / "pyproject.toml")
    graph = ImportGraph(collect(config).files)
    # On disk: MANIFEST.in names tvm.contrib.msc, and a CMake option backs USE_CUTLASS, none USE_MSC.
    # The facts handed in say otherwise, and they are what the rules judge.
    build = BuildFacts(
        packaging=(PackagingFacts("python/setup.py", (
            PackagingText(3, "'tvm.relax'", "tvm.relax", "setup.py names the scope in a string"),
        )),),
        cmake=(CMakeFacts("cmake/config.cmake", (BuildOption("USE_MSC", "cmake/config.cmake", 1, "set", "OFF"),)),),
    )
    project_facts = Project(config, graph, build)
    assert _findings(PackagingNamesScope().check(project_facts)) == [("SG303", "python/setup.py", 3, "tvm.relax")]
    assert _findings(ToggleWithoutSwitch().check(project_facts)) == [("SG404", "pyproject.toml", 27, "tvm.contrib.cutlass")]
    # No CMake facts: the project is not built with CMake, whatever lies on disk.
    empty = Project(config, graph, BuildFacts())
    assert _findings(PackagingNamesScope().check(empty)) == []
    assert _findings(ToggleWithoutSwitch().check(empty)) == []
    # A Project without build facts is a programming error, never a silent "nothing found".
    for rule in (PackagingNamesScope, ToggleWithoutSwitch):
        with pytest.raises(ValueError, match="needs the project's"):
            list(rule().check(Project(config, graph)))


def test_build_facts_are_cached_by_content_with_the_rest(project, monkeypatch):
    config = load_config(project / "pyproject.toml")
    cache_dir = project / ".scopeguard_cache"
    parsed: list[str] = []
    real = pipeline.build_facts_of

    def counting(path, kind, data):
        parsed.append(path)
        return real(path, kind, data)

    monkeypatch.setattr(pipeline, "build_facts_of", counting)

    def run():
        parsed.clear()
        return analyse(config, select=["SG303", "SG404"], cache=Cache(cache_dir, config), jobs=1)

    first = run()
    assert sorted(parsed) == ["CMakeLists.txt", "MANIFEST.in", "cmake/config.cmake", "pyproject.toml"]
    expected = [("SG303", "MANIFEST.in", 2, "tvm.contrib.msc"), ("SG404", "pyproject.toml", 33, "tvm.contrib.msc")]
    assert _findings(first.violations) == expected
    stored = Cache(cache_dir, config).load_facts()
    assert sum(isinstance(v, PackagingFacts) for v in stored.values()) == 2
    assert sum(isinstance(v, CMakeFacts) for v in stored.values()) == 2

    # A Python file's facts change: the result is recomputed, the build facts come from the cache.
    # (A comment alone leaves the facts as they were: the stored result answers.)
    support = project / "python/tvm/support.py"
    support.write_text(support.read_text() + "\nimport os\n")
    second = run()
    assert (second.from_cache, second.files_parsed, parsed) == (False, 1, [])
    assert _findings(second.violations) == expected

    # A CMake file changes: only it is parsed again, and SG404's answer follows it.
    with open(project / "cmake/config.cmake", "a") as handle:
        handle.write("set(USE_MSC OFF)\n")
    third = run()
    assert (third.from_cache, parsed) == (False, ["cmake/config.cmake"])
    assert _findings(third.violations) == expected[:1]
    assert run().from_cache and parsed == []


def test_facts_from_bytes_read_as_text_with_universal_newlines():
    lf = build_facts_of("cmake/config.cmake", "cmake", b"# doc\nset(USE_MSC OFF)\n")
    assert build_facts_of("cmake/config.cmake", "cmake", b"# doc\r\nset(USE_MSC OFF)\r\n") == lf
    assert build_facts_of("cmake/config.cmake", "cmake", b"# doc\rset(USE_MSC OFF)\r") == lf
    assert lf.options == (BuildOption("USE_MSC", "cmake/config.cmake", 2, "set", "OFF"),)
    # Bytes that are not UTF-8 are replaced, as reading the file as text does.
    manifest = build_facts_of("MANIFEST.in", "packaging", b"include tvm/relax/\xff.json\n")
    assert [t.text for t in manifest.texts] == ["include tvm/relax/\ufffd.json"]


def test_one_settings_value_keys_the_facts_cache(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.scopeguard]\nsource_roots = ["."]\n')
    plain = load_config(tmp_path / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.scopeguard]\nsource_roots = ["."]\n\n[tool.scopeguard.registries]\nlookup = ["my_lookup"]\n'
    )
    custom = load_config(tmp_path / "pyproject.toml")
    assert ScanSettings.of(custom) == ScanSettings(custom.toggles, custom.registries)
    assert ScanSettings.of(custom).registries.lookup == ("my_lookup",)
    assert ScanSettings.of(plain) != ScanSettings.of(custom)
    assert Cache(tmp_path / "c", plain).scan_key != Cache(tmp_path / "c", custom).scan_key
