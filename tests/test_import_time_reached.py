"""analysis/import_time.py answers many `reached(also)` questions in one run (reachability, the
toggle writes, the attached names, the registered-only verdicts, the unknown imports) from one
stored walk, widened when a question asks for more and filtered otherwise. These tests hold that
to the plain answer: a fresh analysis asked the same question, on real code (this package's own
sources, which import lazily inside functions everywhere, and the TVM-like fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopeguard.analysis.import_time import ImportTime
from scopeguard.facts import ToggleMatcher, scan_source

from .conftest import FIXTURES

SRC = Path(__file__).resolve().parents[1] / "src"


def _corpus(root: Path, roots: list[Path]) -> dict:
    files = {}
    for base in roots:
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(root)
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            module = ".".join(parts)
            facts = scan_source(path.read_bytes(), path=str(path.relative_to(root.parent)), module=module,
                                is_package=is_package, matcher=ToggleMatcher(()))
            files[facts.node] = facts
    return files


@pytest.fixture(scope="module")
def corpora():
    own = _corpus(SRC, [SRC / "scopeguard"])
    tvm = _corpus(FIXTURES / "tvm_like" / "python", [FIXTURES / "tvm_like" / "python"])
    return {"own": own, "tvm_like": tvm}


def _fresh(files, also):
    return ImportTime(files, frozenset(f.module for f in files.values())).reached(also)


def _functions(files) -> list[str]:
    analysis = ImportTime(files, frozenset(f.module for f in files.values()))
    return sorted(analysis.defs)


def test_the_corpus_has_chains_to_walk(corpora):
    """Not a vacuous comparison: import time reaches functions through calls in both corpora."""
    for files in corpora.values():
        found = _fresh(files, _functions(files))
        assert any(len(item.via) > 1 for item in found)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_stored_walk_answers_each_question_as_a_fresh_analysis_would(corpora, data):
    name = data.draw(st.sampled_from(sorted(corpora)))
    files = corpora[name]
    functions = _functions(files)
    warm = ImportTime(files, frozenset(f.module for f in files.values()))
    questions = data.draw(st.lists(st.lists(st.sampled_from(functions), max_size=6), min_size=1, max_size=5))
    for also in [[], *questions, []]:
        assert warm.reached(also) == _fresh(files, also)
