"""Packaging and config files that name a scope: found by line, never executed."""

from __future__ import annotations

from scopeguard.config import load_config
from scopeguard.collect.packaging import is_packaging_path, packaging_files, references
from scopeguard.run.pipeline import collect


def find_references(config, scope):
    """SG303's input as check sees it: the pipeline's packaging facts, matched against a scope."""
    return references(collect(config).build.packaging, scope)

PYPROJECT = """\
[project]
name = "tvm"
scripts = { tvm-relax = "tvm.relax.cli:main" }

[project.entry-points."tvm.backends"]
relaxed = "tvm.relaxed:load"   # not the scope: a longer name

[tool.pytest.ini_options]
testpaths = ["tests/python/relax"]

[tool.scopeguard]
source_roots = ["python"]

[[tool.scopeguard.scopes]]
name = "tvm.relax"
extra_paths = ["tests/python/relax"]
"""

SETUP_PY = """\
import os
from setuptools import setup

# tvm.relax in a comment is not a string
setup(
    packages=["tvm", "tvm.relax", "tvm.relax.frontend"],
    package_data={"tvm": ["relax/*.json"]},
    data_files=[os.path.join("tvm", "relax")],
)
raise SystemExit("setup.py must never run")
"""


def _project(tmp_path, files):
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "python/tvm/relax").mkdir(parents=True, exist_ok=True)
    (tmp_path / "tests/python/relax").mkdir(parents=True, exist_ok=True)
    (tmp_path / "python/tvm/__init__.py").write_text("")
    (tmp_path / "python/tvm/relax/__init__.py").write_text("")
    config = load_config(tmp_path / "pyproject.toml")
    return config, config.scopes[0]


def test_pyproject_outside_tool_scopeguard(tmp_path):
    config, scope = _project(tmp_path, {"pyproject.toml": PYPROJECT})
    found = [(r.path, r.line, r.why) for r in find_references(config, scope)]
    assert found == [
        ("pyproject.toml", 3, "pyproject.toml [project] names the scope"),
        ("pyproject.toml", 9, "pyproject.toml [tool.pytest.ini_options] names the scope"),
    ]


def test_setup_py_string_literals_by_ast_setup_cfg_and_manifest_beside_the_source_root(tmp_path):
    config, scope = _project(
        tmp_path,
        {
            "pyproject.toml": "[tool.scopeguard]\nsource_roots = [\"python\"]\n\n[[tool.scopeguard.scopes]]\nname = \"tvm.relax\"\n",
            "python/setup.py": SETUP_PY,
            "setup.cfg": "[options.entry_points]\nconsole_scripts =\n    relax = tvm.relax.cli:main\n",
            "MANIFEST.in": "include README.md\nrecursive-include python/tvm/relax *.json\n",
        },
    )
    assert packaging_files(config) == ["pyproject.toml", "setup.cfg", "MANIFEST.in", "python/setup.py"]
    # check --diff asks it of files that exist only at BASE: the places packaging_files() looks.
    assert [p for p in ("setup.py", "python/setup.cfg", "python/tvm/setup.py", "docs/setup.py", "MANIFEST.in")
            if is_packaging_path(config, p)] == ["setup.py", "python/setup.cfg", "MANIFEST.in"]
    found = [(r.path, r.line, r.text) for r in find_references(config, scope)]
    assert found == [
        ("setup.cfg", 3, "relax = tvm.relax.cli:main"),
        ("MANIFEST.in", 2, "recursive-include python/tvm/relax *.json"),
        ("python/setup.py", 6, "'tvm.relax'"),
        ("python/setup.py", 6, "'tvm.relax.frontend'"),
    ]


def test_unparsable_setup_py_falls_back_to_text(tmp_path):
    config, scope = _project(
        tmp_path,
        {
            "pyproject.toml": "[tool.scopeguard]\nsource_roots = [\"python\"]\n\n[[tool.scopeguard.scopes]]\nname = \"tvm.relax\"\n",
            "setup.py": "setup(packages=['tvm.relax'\n",
        },
    )
    assert [(r.path, r.line) for r in find_references(config, scope)] == [("setup.py", 1)]


def test_sg303_in_check(tmp_path):
    from scopeguard.run.pipeline import analyse

    config, _ = _project(tmp_path, {"pyproject.toml": PYPROJECT})
    found = analyse(config, select=["SG303"]).violations
    assert [(v.code, v.path, v.line, v.scope) for v in found] == [
        ("SG303", "pyproject.toml", 3, "tvm.relax"),
        ("SG303", "pyproject.toml", 9, "tvm.relax"),
    ]
