"""Issue 14: scopeguard's guard answers judged by Python itself.

Every case of tests/oracle/cases/ is a tiny project run by the runtime oracle (tests/oracle/runner.py)
with the toggle off in each OFF state, scope present and deleted; tests/oracle/harness.py derives
from what Python did whether scopeguard's `check` and `delete-plan` answers are correct, UNDER
(unsound) or OVER (noisy) — see its docstring for the rules. Today's wrong answers are listed in
tests/oracle/known.py and marked xfail(strict=True, raises=UnderReport/OverReport).

The per-family table: `.venv/bin/python -m tests.oracle.report` (-v: every wrong answer, why).
"""

from __future__ import annotations

import textwrap

import pytest

from tests.inprocess import run_main
from tests.oracle.cases import ALL
from tests.oracle.harness import (
    ENV_OFF,
    INFO_OFF,
    PY_OFF,
    STATES,
    Answer,
    Case,
    Observation,
    grade_all,
    judge,
    table,
)
from tests.oracle.known import KNOWN


class UnderReport(AssertionError):
    """scopeguard calls guarded/optional/absent/lazy/clean what Python runs or breaks."""


class OverReport(AssertionError):
    """scopeguard reports what Python never runs or breaks with the toggle off."""


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    return grade_all(ALL, tmp_path_factory.mktemp("oracle"))


def _marks(case: Case):
    kind = KNOWN.get(case.id)
    if kind == "UNDER":
        return [pytest.mark.xfail(strict=True, raises=UnderReport, reason=f"UNDER: {case.family}")]
    if kind == "OVER":
        return [pytest.mark.xfail(strict=True, raises=OverReport, reason=f"OVER: {case.family}")]
    return []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=_marks(c)) for c in ALL])
def test_scopeguard_agrees_with_python(case, grades):
    grade = grades[case.id]
    if grade.verdict == "under":
        raise UnderReport(grade.explain())
    if grade.verdict == "over":
        raise OverReport(grade.explain())


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in ALL])
def test_case_does_what_its_author_says(case, grades):
    """A check of the case table, not of scopeguard: Python does what the case claims."""
    grade = grades[case.id]
    assert grade.observation.runtime == case.runtime, grade.explain()


def test_known_lists_only_existing_cases():
    ids = {c.id for c in ALL}
    assert sorted(set(KNOWN) - ids) == []
    assert set(KNOWN.values()) <= {"UNDER", "OVER"}


def test_every_family_has_wrong_and_right_answers_measured(grades):
    """Each family holds cases Python runs or breaks and controls that behave otherwise (guarded:
    silent; truly lazy: call-time only), so both under- and over-reports can show."""
    families = {c.family for c in ALL}
    for family in families:
        runtimes = {g.observation.runtime for g in grades.values() if g.case.family == family}
        assert runtimes & {"breaks", "runs", "call-breaks", "call-runs"}, family
        assert len(runtimes) >= 2 or family == "suppressions", family
    assert len(ALL) >= 150
    assert table(grades.values()).splitlines()[-1].split()[1] == str(len(ALL))


def test_states_cover_every_off_value_of_every_kind():
    envs = {s["env"]["PKG_USE_FEAT"] for s in STATES}
    pys = {s["env"]["ORACLE_PY_FEAT"] for s in STATES}
    infos = {s["env"]["ORACLE_LIBINFO"] for s in STATES}
    assert envs == set(ENV_OFF)
    assert pys == set(PY_OFF)
    assert len(infos) == len(INFO_OFF)


# --- the judge on its own: each rule can fail ----------------------------------------------------

CASE = Case(id="x", family="f", code="", runtime="breaks")
BREAKS = Observation(imported=True, breaks=True, call_imports=False, call_breaks=False, failing_entries=("pkg.user",), detail="")
RUNS = Observation(imported=True, breaks=False, call_imports=False, call_breaks=False, failing_entries=(), detail="")
SILENT = Observation(imported=False, breaks=False, call_imports=False, call_breaks=False, failing_entries=(), detail="")
CALL_BREAKS = Observation(imported=False, breaks=False, call_imports=True, call_breaks=True, failing_entries=(), detail="")


def answer(*codes, clean=True, broken=(), lazy=()):
    return Answer(tuple(codes), tuple(codes), clean, tuple(broken), tuple(lazy))


@pytest.mark.parametrize(
    "observation, given, verdict",
    [
        (BREAKS, answer("SG201", clean=False, broken=["pkg.user"]), "correct"),
        (BREAKS, answer("SG204"), "under"),  # "survives" while it breaks
        (BREAKS, answer("SG202", clean=False, lazy=["pkg.user"]), "under"),  # "lazy" while it runs on import
        (BREAKS, answer("SG201"), "under"),  # check right, delete-plan "clean"
        (BREAKS, answer("SG206", clean=False, broken=["pkg.user"]), "correct"),  # "unknown" is sound
        (RUNS, answer("SG204"), "correct"),
        (RUNS, answer("SG203"), "under"),  # "type-only" while it runs
        (RUNS, answer("SG201", clean=False, broken=["pkg.user"]), "over"),
        (SILENT, answer(), "correct"),
        (SILENT, answer("SG203"), "correct"),  # a note, not a claim that it runs
        (SILENT, answer("SG201", clean=False, broken=["pkg.user"]), "over"),
        (SILENT, answer("SG202", clean=False, lazy=["pkg.user"]), "over"),
        (CALL_BREAKS, answer("SG202", clean=False, lazy=["pkg.user"]), "correct"),
        (CALL_BREAKS, answer(), "under"),
        (CALL_BREAKS, answer("SG202"), "under"),  # delete-plan misses the call
    ],
)
def test_judge(observation, given, verdict):
    assert judge(CASE, observation, given).verdict == verdict


def test_judge_genuine_suppression():
    case = Case(id="x", family="f", code="", runtime="breaks", suppressed=True)
    assert judge(case, BREAKS, answer(clean=False, broken=["pkg.user"])).verdict == "correct"
    assert judge(case, BREAKS, answer(clean=True)).verdict == "under"
    assert judge(case, BREAKS, answer("SG201", clean=False, broken=["pkg.user"])).verdict == "over"


# --- config ambiguity (issue 14): exit 2 with the file and the spelling named ---------------------

USER = "from pkg.config import USE_FEAT\nif USE_FEAT:\n    from pkg import feat\n"


def _project(tmp_path, toggles: str):
    (tmp_path / "pkg" / "feat").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "feat" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "config.py").write_text("USE_FEAT = False\n")
    (tmp_path / "pkg" / "user.py").write_text(USER)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.scopeguard]\nsource_roots = ["."]\n\n' + textwrap.dedent(toggles)
        + '\n[[tool.scopeguard.scopes]]\nname = "pkg.feat"\ntoggle = "feat"\n'
    )
    return run_main("check", str(tmp_path), "--no-cache", cwd=tmp_path)


AMBIGUOUS = {
    "same-spelling-two-toggles": ("""
        [tool.scopeguard.toggles.feat]
        on_when_true = ["USE_FEAT"]
        [tool.scopeguard.toggles.other]
        on_when_true = ["USE_FEAT"]
        """, "USE_FEAT"),
    "same-spelling-two-toggles-opposite-polarity": ("""
        [tool.scopeguard.toggles.feat]
        on_when_true = ["USE_FEAT"]
        [tool.scopeguard.toggles.other]
        on_when_false = ["USE_FEAT"]
        """, "USE_FEAT"),
    "type-checking-as-spelling": ("""
        [tool.scopeguard.toggles.feat]
        on_when_true = ["USE_FEAT", "TYPE_CHECKING"]
        """, "TYPE_CHECKING"),
    "typing-type-checking-as-spelling": ("""
        [tool.scopeguard.toggles.feat]
        on_when_false = ["typing.TYPE_CHECKING"]
        on_when_true = ["USE_FEAT"]
        """, "TYPE_CHECKING"),
}


@pytest.mark.parametrize("name", sorted(AMBIGUOUS))
def test_ambiguous_toggle_config_is_a_usage_error(tmp_path, name):
    toggles, spelling = AMBIGUOUS[name]
    code, _, err = _project(tmp_path, toggles)
    assert code == 2
    assert "pyproject.toml" in err and spelling in err


def test_one_spelling_in_both_polarities_of_one_toggle_is_a_usage_error(tmp_path):
    code, _, err = _project(tmp_path, """
        [tool.scopeguard.toggles.feat]
        on_when_true = ["USE_FEAT"]
        on_when_false = ["USE_FEAT"]
        """)
    assert code == 2 and "pyproject.toml" in err and "USE_FEAT" in err


def test_distinct_spellings_are_fine(tmp_path):
    code, out, err = _project(tmp_path, """
        [tool.scopeguard.toggles.feat]
        on_when_true = ["USE_FEAT"]
        [tool.scopeguard.toggles.other]
        on_when_true = ["USE_OTHER"]
        """)
    assert (code, err) == (0, ""), out
