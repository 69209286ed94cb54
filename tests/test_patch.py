"""`delete-plan SCOPE --apply -o PATCH`: the deletion as a patch, and the codemods it is made of.

Each fixture scope's patch is compared with a golden diff (tests/golden/, reviewed by eye), then
applied with `git apply` to a fresh copy, where the remaining modules are imported one by one and
`check` is run again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scopeguard.actions.codemods import add_suppression, packaging_edits, remove_guarded_import, remove_registry_entry

from .conftest import FIXTURES
from .inprocess import run_main

GOLDEN = Path(__file__).parent / "golden"
CODEMODS = (remove_guarded_import, remove_registry_entry, add_suppression, packaging_edits)


@pytest.mark.parametrize(
    "module,example",
    [(m, e) for m in CODEMODS for e in m.EXAMPLES],
    ids=[f"{m.__name__.rpartition('.')[2]}: {e.name}" for m in CODEMODS for e in m.EXAMPLES],
)
def test_codemod_examples(module, example):
    if module is packaging_edits:
        result = module.apply(source=example.before, **example.arguments)
    else:
        result = module.apply(example.before, **example.arguments)
    assert result.source == example.after
    again = module.apply(source=result.source, **example.arguments) if module is packaging_edits else None
    if module is add_suppression:  # idempotent
        assert module.apply(result.source, **example.arguments).source == result.source
    del again


def test_guarded_import_kept_when_its_name_is_used():
    example = next(e for e in remove_guarded_import.EXAMPLES if "still used" in e.name)
    result = remove_guarded_import.apply(example.before, **example.arguments)
    assert [(k.line, k.text) for k in result.kept] == [(4, "from app.gpu.kernels import run")]
    assert result.removed == ()


def test_registry_entries_found_only_in_module_level_literals():
    source = 'A = ("cpu", "npu")\nB: list = ["npu"]\ndef f():\n    return ("npu",)\nC = {"npu": 1}\n'
    found = remove_registry_entry.registry_entries(source, {"npu"})
    assert [(e.line, e.literal, e.container) for e in found] == [(1, "npu", "A"), (2, "npu", "B"), (5, "npu", "C")]


SCOPES = [
    ("deletable", "src", "app.gpu"),
    ("deletable", "src", "app.legacy"),
    ("tvm_like", "python", "tvm.relax"),
    ("tvm_like", "python", "tvm.contrib.msc"),
]


def _golden_name(fixture: str, scope: str) -> Path:
    return GOLDEN / f"{fixture}__{scope}.patch"


def _copy(fixture: str, tmp_path: Path) -> Path:
    target = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, target, ignore=shutil.ignore_patterns("__pycache__", ".scopeguard_cache"))
    return target


def _patch(project: Path, scope: str, tmp_path: Path) -> tuple[str, str]:
    out = tmp_path / f"{scope}.patch"
    code, stdout, stderr = run_main("delete-plan", scope, str(project), "--apply", "-o", str(out), "--no-cache")
    assert code in (0, 1), stderr
    assert "patch written to" in stderr
    return out.read_text(encoding="utf-8"), stderr


@pytest.mark.parametrize("fixture,root,scope", SCOPES, ids=[s for _, _, s in SCOPES])
def test_patch_is_the_golden_diff(fixture, root, scope, tmp_path):
    text, _ = _patch(_copy(fixture, tmp_path), scope, tmp_path)
    golden = _golden_name(fixture, scope)
    if os.environ.get("SCOPEGUARD_WRITE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def _git_apply(project: Path, patch: Path, *options: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(project.parent)}
    return subprocess.run(["git", "apply", *options, str(patch)], cwd=project, env=env, capture_output=True, text=True)


def _modules(project: Path, root: str) -> list[str]:
    base = project / root
    found = []
    for path in sorted(base.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append(".".join(parts))
    return found


def _failing_imports(project: Path, root: str, modules: list[str]) -> set[str]:
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        failed.append(name)\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] in {n.split('.')[0] for n in sys.argv[1:]}]:\n"
        "        del sys.modules[loaded]\n"
        "print('\\n'.join(failed))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(project / root), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script, *modules], cwd=project, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(filter(None, done.stdout.splitlines()))


@pytest.mark.parametrize("fixture,root,scope", SCOPES, ids=[s for _, _, s in SCOPES])
def test_patch_applies_and_the_rest_imports(fixture, root, scope, tmp_path):
    """`git apply --check` passes on a fresh copy; after applying, every remaining module imports
    except exactly those the plan says break (listed at the patch's top); `check` then has no
    finding about an import of the deleted scope and no guarded import of it is left."""
    project = _copy(fixture, tmp_path)
    text, _ = _patch(project, scope, tmp_path)
    patch = tmp_path / "deletion.patch"
    patch.write_text(text, encoding="utf-8")
    code, plan_json, _ = run_main("delete-plan", scope, str(project), "--format", "json", "--no-cache")
    import json

    plan = json.loads(plan_json)
    users = plan["users"]
    user_files = set()  # a user scope's own files: they go with it (the patch says so at its top)
    for user in users:
        _, user_plan, _ = run_main("delete-plan", user, str(project), "--format", "json", "--no-cache")
        user_files |= {f["path"] for f in json.loads(user_plan)["delete"]["files"]}
    assert _git_apply(project, patch, "--check").returncode == 0
    applied = _git_apply(project, patch)
    assert applied.returncode == 0, applied.stderr
    for path in plan["delete"]["files"]:
        assert not (project / path["path"]).exists()
    predicted = {b["module"] for b in plan["broken"] if not b["extra"]}
    for b in plan["broken"]:
        if len(b["chain"]) == 2 and b["line"]:
            assert f"#   {b['path']}:{b['line']}: imports " in text  # listed, never dropped
    for item in plan["lazy"]:
        assert f"#   {item['path']}:{item['line']}: imports {item['imported']} inside a function" in text
    top = scope.split(".")[0]
    failing = _failing_imports(project, root, [top])
    assert failing == ({top} if top in predicted else set())
    # A scope that declares `uses = [scope]` goes with it: the patch says so at its top, and its
    # modules are the user's to delete first (they fail, as declared).
    for user in users:
        assert f"#   scope {user} uses {scope}: its modules fail once this patch is applied" in text
    remaining = [m for m in _modules(project, root) if not any(m == u or m.startswith(u + ".") for u in users)]
    assert _failing_imports(project, root, remaining) == predicted

    code, out, err = run_main("check", str(project), "--no-cache", "--format", "json")
    findings = json.loads(out)["violations"] if out.strip().startswith("{") else []
    about = [f for f in findings if f.get("imported", "").startswith(scope)]
    kept = [line for line in text.splitlines() if line.startswith("#   ")]
    for finding in about:  # only what the patch lists for a person
        assert any(f"{finding['path']}:" in line for line in kept), finding
    # No import of the scope is left, except those the patch lists for a person.
    import ast

    for path in sorted(project.rglob("*.py")):
        rel = path.relative_to(project).as_posix()
        if rel in user_files:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [f"{node.module}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom) and node.module
                and not node.level else [])
            if any(n == scope or n.startswith(scope + ".") for n in names):
                assert any(line.startswith(f"#   {rel}:") for line in kept), (rel, node.lineno)  # lines moved


def test_gpu_patch_leaves_a_clean_tree(tmp_path):
    """The clean scope: after the patch, check has no finding at all about app.gpu, and the one
    import left is the one listed (its name is used in the function below it)."""
    project = _copy("deletable", tmp_path)
    text, stderr = _patch(project, "app.gpu", tmp_path)
    patch = tmp_path / "gpu.patch"
    patch.write_text(text, encoding="utf-8")
    assert _git_apply(project, patch).returncode == 0
    backend = (project / "src/app/backend.py").read_text()
    assert "if USE_GPU:" not in backend.split("def launch")[0]
    assert "from app.gpu.kernels import run" in backend
    assert "NOT EDITED (1)" in text
    assert "src/app/backend.py:16: from app.gpu.kernels import run -- guarded import kept" in stderr


def test_packaging_references_edited(tmp_path):
    project = _copy("deletable", tmp_path)
    with open(project / "pyproject.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[project]\nname = "app"\n\n[project.scripts]\napp-gpu = "app.gpu.cli:main"\n'
                     '\n[tool.setuptools]\npackages = ["app", "app.gpu", "app.core"]\n')
    (project / "MANIFEST.in").write_text("include README.md\nrecursive-include src/app/gpu *.cu\n")
    (project / "setup.cfg").write_text("[metadata]\nname = app\n[options]\npackage_dir = app.gpu\n")
    text, _ = _patch(project, "app.gpu", tmp_path)
    assert '-app-gpu = "app.gpu.cli:main"\n' in text
    assert '+packages = ["app", "app.core"]\n' in text
    assert "-recursive-include src/app/gpu *.cu\n" in text
    assert "#   setup.cfg:4: package_dir = app.gpu -- setup.cfg: the key's whole value names the scope" in text
    patch = tmp_path / "p.patch"
    patch.write_text(text, encoding="utf-8")
    assert _git_apply(project, patch).returncode == 0
    assert "app.gpu" not in (project / "MANIFEST.in").read_text() + "".join(
        line for line in (project / "pyproject.toml").read_text().splitlines(True) if "scopeguard" not in line
        and not line.startswith("name = \"app.gpu\""))


def test_header_is_ignored_by_git_apply(tmp_path):
    project = _copy("tvm_like", tmp_path)
    text, _ = _patch(project, "tvm.contrib.msc", tmp_path)
    head = text.split("diff --git", 1)[0]
    assert head.startswith("# scopeguard delete-plan tvm.contrib.msc --apply")
    assert all(line.startswith("#") for line in head.splitlines())
    assert "python/tvm/driver/build.py:40: importlib.import_module(f\"tvm.contrib.{name}\") -- dynamic import" in head


def test_apply_needs_output(tmp_path):
    code, _, err = run_main("delete-plan", "app.gpu", str(FIXTURES / "deletable"), "--apply", "--no-cache")
    assert code == 2
    assert "--apply and -o PATCH go together" in err


def test_apply_verify_sweeps_the_patched_copy(tmp_path):
    project = _copy("deletable", tmp_path)
    out = tmp_path / "legacy.patch"
    code, stdout, stderr = run_main("delete-plan", "app.legacy", str(project), "--apply", "-o", str(out), "--verify",
                                    "--format", "json", "--no-cache", "--env", "APP_USE_LEGACY=0")
    import json

    data = json.loads(stdout)
    assert sorted(data["verify"]["broken"]) == ["app.core", "app.core.engine", "app.core.util", "app.report"]
    assert data["verify"]["broken_not_predicted"] == []
    assert data["verify"]["predicted_but_fine"] == []
    # The patch (not a plain deletion) was applied: a broken patch makes --verify fail.
    from scopeguard.actions.verify import apply_patch

    with pytest.raises(RuntimeError, match="does not apply"):
        apply_patch("diff --git a/src/x.py b/src/x.py\n--- a/src/x.py\n+++ b/src/x.py\n@@ -1 +1 @@\n-a\n+b\n",
                    str(project), ["src"])


def test_links_deleted_as_links_and_binary_files_listed(tmp_path):
    """A symlink in the scope's folder is deleted as a link (what it points to is never read); a
    binary file cannot be a text hunk: it is listed for `git rm`, not silently left."""
    project = _copy("deletable", tmp_path)
    secret = tmp_path / "outside.txt"
    secret.write_text("not yours\n")
    os.symlink(secret, project / "src/app/gpu/link.txt")
    (project / "src/app/gpu/blob.bin").write_bytes(b"\x00\x01\xff")
    text, stderr = _patch(project, "app.gpu", tmp_path)
    assert "not yours" not in text
    assert f"diff --git a/src/app/gpu/link.txt b/src/app/gpu/link.txt\ndeleted file mode 120000\n" in text
    assert f"-{secret}\n\\ No newline at end of file\n" in text
    assert "#   src/app/gpu/blob.bin -- binary file: not in the patch; delete it by hand (git rm)" in text
    patch = tmp_path / "p.patch"
    patch.write_text(text, encoding="utf-8")
    assert _git_apply(project, patch).returncode == 0
    assert not os.path.lexists(project / "src/app/gpu/link.txt")
    assert secret.read_text() == "not yours\n"
    assert (project / "src/app/gpu/blob.bin").exists()  # left, and said so


def test_attribute_uses_of_the_scope_are_found():
    from scopeguard.actions.codemods.attribute_uses import attribute_uses

    source = "import tvm\nx = tvm.relax.Function\ny = tvm.relaxed.F\nz = tvm.relax\nw = other.relax.F\n"
    assert attribute_uses(source, "tvm.relax") == [(2, "tvm.relax.Function"), (4, "tvm.relax")]
    assert attribute_uses("from tvm import relax\nx = tvm.relax.F\n", "tvm.relax") == []  # `tvm` not bound


def test_attribute_use_listed_in_the_patch(tmp_path):
    project = _copy("tvm_like", tmp_path)
    (project / "python/tvm/support.py").write_text(
        (project / "python/tvm/support.py").read_text() + "\n\ndef is_function(x):\n    import tvm\n\n"
        "    return isinstance(x, tvm.relax.Function)\n")
    text, _ = _patch(project, "tvm.relax", tmp_path)
    lines = (project / "python/tvm/support.py").read_text().splitlines()
    line = next(i for i, t in enumerate(lines, 1) if "tvm.relax.Function" in t)
    assert (f"#   python/tvm/support.py:{line}: tvm.relax.Function -- uses the scope as an attribute, with no "
            "import: fails when this line runs; edit by hand") in text


def test_apply_verify_predicts_what_the_patch_leaves_broken(tmp_path):
    """Deleting rb/backend/dsp alone breaks `import rb` (the tuple entry "dsp" is imported at import
    time); the patch also removes that entry, so after it nothing breaks - the prediction --verify
    compares with is the patched tree's (0), not the plain deletion's (9 modules)."""
    project = _copy("reach_backends", tmp_path)
    out = tmp_path / "dsp.patch"
    code, stdout, _ = run_main("delete-plan", "rb.backend.dsp", str(project), "--apply", "-o", str(out), "--verify",
                               "--format", "json", "--no-cache")
    import json

    data = json.loads(stdout)
    assert len(data["broken"]) == 9  # the plain deletion
    assert '-    "dsp",\n' in out.read_text()
    assert "fail through those" not in out.read_text()  # the header lists what the patch leaves broken: nothing
    verify = data["verify"]
    assert (verify["broken"], verify["predicted_and_broken"], verify["predicted_but_fine"],
            verify["broken_not_predicted"]) == ({}, [], [], [])
