"""`delete-plan --verify`: the deletion done for real in a copy, compared with the prediction.

Each test imports a handful of tiny modules in forked children (about a second in all).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from scopeguard.config import load_config
from scopeguard.actions.verify import deletion_targets, verify_deletion

from .conftest import FIXTURES, REPO


def _tree(folder):
    return sorted(
        os.path.relpath(os.path.join(d, f), folder) for d, _, files in os.walk(folder) for f in files
    )


def test_static_and_dynamic_agree(run_cli, tmp_path):
    before = _tree(FIXTURES / "deletable")
    code, out, err = run_cli("delete-plan", "app.legacy", "fixtures/deletable", "--no-cache", "--verify",
                             "--format", "json")
    assert code == 1, err
    verify = json.loads(out)["verify"]
    assert verify["broken"].keys() == {"app.core", "app.core.engine", "app.core.util", "app.report"}
    assert verify["predicted_and_broken"] == ["app.core", "app.core.engine", "app.core.util", "app.report"]
    assert verify["predicted_but_fine"] == [] and verify["broken_not_predicted"] == []
    assert verify["failing_anyway"] == {}
    assert verify["forked"] is True
    assert _tree(FIXTURES / "deletable") == before  # the user's tree is untouched, no __pycache__


def test_static_and_dynamic_disagree(run_cli):
    code, out, err = run_cli("delete-plan", "plug.backends.fast", "fixtures/deletion_disagree", "--no-cache",
                             "--verify")
    assert code == 1, err
    assert "  predicted and broken: 1" in out
    assert "    predicted but fine: plug.compat" in out  # `if os.environ.get("PLUG_LEGACY_ABI"):` never runs
    # importlib.import_module(name) over a tuple: invisible statically, broken for real.
    assert "    broken but not predicted: plug.registry: ModuleNotFoundError: No module named 'plug.backends.fast'" in out


def test_clean_deletion_verifies_clean_and_environment_reaches_the_children(run_cli):
    code, out, err = run_cli("delete-plan", "app.gpu", "fixtures/deletable", "--no-cache", "--verify")
    assert code == 0, err
    assert "  broken by the deletion: 0" in out
    # With the toggle on, app/__init__.py imports the deleted scope: every module breaks for real.
    code, out, err = run_cli("delete-plan", "app.gpu", "fixtures/deletable", "--no-cache", "--verify",
                             "--env", "APP_USE_GPU=1", "--format", "json")
    assert code == 1, err
    verify = json.loads(out)["verify"]
    assert "app" in verify["broken"] and verify["broken_not_predicted"] == sorted(verify["broken"])


def test_modules_failing_anyway_are_not_blamed(tmp_path):
    config = load_config(FIXTURES / "deletion_disagree" / "pyproject.toml")
    scope = config.scopes[0]
    result = verify_deletion(config, scope, ["plug.core", "plug.missing_dependency"], ["plug.core"],
                             jobs=1, workdir=str(tmp_path))
    assert result.failing_anyway.keys() == {"plug.missing_dependency"}
    assert result.broken.keys() == {"plug.core"} and result.agrees
    assert os.listdir(tmp_path) == []  # the temporary copy is gone


def test_a_failing_top_level_package_fails_every_module_below_it(tmp_path):
    root = tmp_path / "proj"
    (root / "src/pkg/feature").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.scopeguard]\nsource_roots = ["src"]\n\n[[tool.scopeguard.scopes]]\nname = "pkg.feature"\n'
    )
    (root / "src/pkg/__init__.py").write_text("raise ImportError('broken root')\n")
    (root / "src/pkg/feature/__init__.py").write_text("")
    (root / "src/pkg/other.py").write_text("")
    config = load_config(root / "pyproject.toml")
    result = verify_deletion(config, config.scopes[0], ["pkg", "pkg.other"], [], jobs=1)
    assert not result.after.forked
    assert result.failing_anyway == {
        "pkg": "ImportError: broken root", "pkg.other": "`import pkg` fails: ImportError: broken root"
    }
    assert deletion_targets(config, config.scopes[0]) == ["src/pkg/feature"]


def test_ctrl_c_removes_the_copy(tmp_path):
    # A module that sleeps forever; interrupt the sweep and check that nothing is left behind.
    root = tmp_path / "proj"
    (root / "src/slow/feature").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.scopeguard]\nsource_roots = ["src"]\n\n[[tool.scopeguard.scopes]]\nname = "slow.feature"\n'
    )
    (root / "src/slow/__init__.py").write_text("")
    (root / "src/slow/feature/__init__.py").write_text("")
    (root / "src/slow/wait.py").write_text("import time\ntime.sleep(60)\n")
    work = tmp_path / "work"
    work.mkdir()
    script = (
        "from scopeguard.config import load_config\nfrom scopeguard.actions.verify import verify_deletion\n"
        f"config = load_config({str(root / 'pyproject.toml')!r})\n"
        "try:\n"
        f"    verify_deletion(config, config.scopes[0], ['slow.wait'], [], workdir={str(work)!r})\n"
        "except KeyboardInterrupt:\n    print('interrupted')\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not any(work.glob("*/scratch-*")) and time.monotonic() < deadline:
            time.sleep(0.05)  # wait until the sweep runs
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=20)
    finally:
        process.kill()
    assert out.strip() == "interrupted"
    assert os.listdir(work) == []


def test_a_project_whose_source_root_is_its_own_folder_is_swept(tmp_path):
    # source_roots = ["."] (matplotlib's layout in a project copy): the copy of the root is the copy
    # itself, inside the temporary folder, not a root outside the project
    root = tmp_path / "proj"
    (root / "pkg/feature").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.scopeguard]\nsource_roots = ["."]\n\n[[tool.scopeguard.scopes]]\nname = "pkg.feature"\n'
    )
    (root / "pkg/__init__.py").write_text("")
    (root / "pkg/feature/__init__.py").write_text("")
    (root / "pkg/user.py").write_text("from pkg import feature\n")
    (root / "pkg/other.py").write_text("")
    config = load_config(root / "pyproject.toml")
    (tmp_path / "work").mkdir()
    result = verify_deletion(config, config.scopes[0], ["pkg", "pkg.user", "pkg.other"], ["pkg.user"], jobs=1,
                             workdir=str(tmp_path / "work"))
    assert result.broken.keys() == {"pkg.user"} and result.failing_anyway == {}
    assert result.agrees


def test_a_file_of_the_scope_s_extra_paths_inside_the_source_roots_is_deleted_not_blamed(run_cli, tmp_path):
    # TVM's metal backend: `s_tir/tensor_intrin/metal.py` belongs with the scope (extra_paths) but
    # lives in the package tree. The deletion (and the patch) removes it, so the sweep does not
    # import it afterwards: its ModuleNotFoundError is the deletion working, not a breakage.
    root = tmp_path / "proj"
    (root / "src/pkg/feature").mkdir(parents=True)
    (root / "src/pkg/intrin").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.scopeguard]\nsource_roots = ["src"]\n\n[[tool.scopeguard.scopes]]\nname = "pkg.feature"\n'
        'extra_paths = ["src/pkg/intrin/feature_intrin.py"]\n'
    )
    for path, text in {"src/pkg/__init__.py": "", "src/pkg/feature/__init__.py": "", "src/pkg/intrin/__init__.py": "",
                       "src/pkg/intrin/feature_intrin.py": "from pkg import feature\n",
                       "src/pkg/intrin/other.py": "", "src/pkg/user.py": "from pkg import feature\n"}.items():
        (root / path).write_text(text)
    for extra in ((), ("--apply", "-o", str(tmp_path / "feature.patch"))):
        code, out, err = run_cli("delete-plan", "pkg.feature", str(root), "--no-cache", "--verify", "--format", "json",
                                 *extra)
        assert code == 1, err
        plan = json.loads(out)
        verify = plan["verify"]
        assert "src/pkg/intrin/feature_intrin.py" in [f["path"] for f in plan["delete"]["files"]]
        assert "pkg.intrin.feature_intrin" not in verify["broken"], extra
        assert verify["broken_not_predicted"] == [], extra
        if not extra:
            assert verify["predicted_and_broken"] == ["pkg.user"]
