"""Issue 27: advice that is right when followed, where the toggle's own predicate lives inside the
scope it guards. transformers defines `is_deepspeed_available()` in `integrations/deepspeed.py`, the
scope, and `models/esm/modeling_esmfold.py`, `cli/system.py` and `testing_utils.py` import it from
there: "guard it with `if is_deepspeed_available():`" cannot be followed, since the guard would
import the scope to ask whether it may be imported. The advice says what must move first; followed
(the predicate moved out, the import guarded), the check is clean, and CPython agrees: with the scope
deleted every module still imports.
"""

from __future__ import annotations

from pathlib import Path

from .reach.runtime import runtime_truth
from .trees import check_violations, write_tree

PYPROJECT = """\
[tool.scopeguard]
source_roots = ["src"]

[tool.scopeguard.toggles.deepspeed]
on_when_true = ["is_deepspeed_available()"]

[[tool.scopeguard.scopes]]
name = "tf.integrations.deepspeed"
toggle = "deepspeed"
"""

SCOPE = """\
import importlib.util


def is_deepspeed_available():
    return importlib.util.find_spec("deepspeed") is not None


def deepspeed_config():
    return {}
"""

BEFORE = {
    "src/tf/__init__.py": "",
    "src/tf/integrations/__init__.py": "",
    "src/tf/integrations/deepspeed.py": SCOPE,
    "src/tf/models/__init__.py": "",
    "src/tf/models/esm.py": """\
        from tf.integrations.deepspeed import is_deepspeed_available

        if is_deepspeed_available():
            from tf.integrations.deepspeed import deepspeed_config
    """,
    "src/tf/cli.py": "from tf.models import esm\n",
}

# The advice followed: the predicate moved next to the code that tests it, the import guarded.
AFTER = {
    **BEFORE,
    "src/tf/integrations/deepspeed.py": SCOPE.replace(
        'def is_deepspeed_available():\n    return importlib.util.find_spec("deepspeed") is not None\n', ""),
    "src/tf/utils.py": """\
        import importlib.util


        def is_deepspeed_available():
            return importlib.util.find_spec("deepspeed") is not None
    """,
    "src/tf/models/esm.py": """\
        from tf.utils import is_deepspeed_available

        if is_deepspeed_available():
            from tf.integrations.deepspeed import deepspeed_config
    """,
}


def project(root: Path, files: dict[str, str]) -> Path:
    return write_tree(root, files, PYPROJECT)


def check(root: Path) -> list[dict]:
    return check_violations(root)


def test_the_advice_says_the_predicate_must_leave_the_scope_first(tmp_path):
    root = project(tmp_path / "before", BEFORE)
    found = check(root)
    assert [(v["code"], v["path"], v["line"]) for v in found if v["code"] == "SG201"] == [
        ("SG201", "src/tf/models/esm.py", 1)]
    message = next(v["message"] for v in found if v["code"] == "SG201")
    assert ("guard it with `if is_deepspeed_available():` once `is_deepspeed_available` is moved out of "
            "tf.integrations.deepspeed (it is defined at src/tf/integrations/deepspeed.py:4") in message
    chains = [v for v in found if v["code"] == "SG301"] + [r for v in found for r in v.get("related", ())
                                                           if r["code"] == "SG301"]
    assert chains and all("once `is_deepspeed_available` is moved out" in r["message"] for r in chains)
    # and the breakage is real: with the scope deleted, CPython fails to import both modules
    broken = runtime_truth(root, ["src"], "tf.integrations.deepspeed", {}).broken
    assert {"tf.models.esm", "tf.cli"} <= set(broken)


def test_the_advice_followed_is_clean_and_python_agrees(tmp_path):
    root = project(tmp_path / "after", AFTER)
    assert [(v["code"], v["path"], v["line"]) for v in check(root)] == []
    truth = runtime_truth(root, ["src"], "tf.integrations.deepspeed", {})
    assert truth.broken == {} and {"tf.models.esm", "tf.cli", "tf.utils"} <= set(truth.after)


def test_a_predicate_defined_outside_the_scope_keeps_the_plain_advice(tmp_path):
    files = {**AFTER, "src/tf/models/esm.py": "from tf.utils import is_deepspeed_available\n"
                                              "from tf.integrations.deepspeed import deepspeed_config\n"}
    found = [v for v in check(project(tmp_path / "plain", files)) if v["code"] == "SG201"]
    assert [(v["path"], v["line"]) for v in found] == [("src/tf/models/esm.py", 2)]
    assert "guard it with `if is_deepspeed_available():`, move it into" in found[0]["message"]
