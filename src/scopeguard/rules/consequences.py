"""Root cause and consequences: one primary finding per decision a maintainer must change.

An unguarded `import pkg.feat` in `pkg/user.py`, which `pkg/__init__.py` imports, is one mistake.
Three rules see it: SG201 (the import itself), SG402 (`import pkg` loads the scope through it) and
SG301 (`pkg` fails at import time once the scope is deleted). The policy, per rule pair:

- SG402 -> its root is the import that enters the scope, the chain's last link (the line SG402
  reports). When that import has a finding of its own there (SG201 unguarded, SG403 wrong toggle,
  SG204 try/except only, SG205 dynamic), SG402 becomes a related note of it.
- SG301 / SG302 -> their root is the chain's last link: the module that imports the deleted scope
  directly. When that import has a finding (SG201, SG403, SG205, or SG101 when that module belongs
  to another scope that does not declare the deleted one in `uses`), the breakage becomes a note of
  it. Scopes that import each other in a ring (each its next) are n undeclared imports, n
  decisions: n SG101 findings, each with the n-2 modules its import breaks as notes (the text
  report shows three and counts the rest, with a `delete-plan` pointer), not n*(n-2) SG301s.
- A consequence whose root has no finding (the root is an approved `allow` integration point, or
  its rule is not selected) stands alone, as before.
- SG202, SG203, SG206, SG207, SG208, SG1xx, SG303, SG401, SG404 have no consequences here: each
  is its own decision.

Suppressing (or per-file ignoring) the primary silences its notes; a suppression at a note's own
line removes that note only. A consequence whose rule is not selected (`--ignore SG301`,
`--ignore SG3`, a `--select` without it) is never a note: it stays a finding of its own, which the
selection then drops.
"""

from __future__ import annotations

from dataclasses import replace

from ..analysis import Project
from ..base.model import Related, Step, Violation

# consequence code -> codes of findings that can be its root cause
ROOTS: dict[str, tuple[str, ...]] = {
    "SG402": ("SG201", "SG403", "SG204", "SG205"),
    "SG301": ("SG201", "SG403", "SG205", "SG101"),
    "SG302": ("SG201", "SG403", "SG205", "SG101"),
}


def attach(project: Project, violations: list[Violation], wanted: set[str]) -> list[Violation]:
    """The findings with each consequence moved under its root cause's finding, where it has one."""
    roots_at: dict[tuple[str, int, str], list[int]] = {}  # (path, line, scope) -> indexes
    roots_by: dict[tuple[str, str], list[int]] = {}  # (importer, scope) -> indexes
    for index, v in enumerate(violations):
        if v.code in wanted and any(v.code in codes for codes in ROOTS.values()):
            roots_at.setdefault((v.path, v.line, v.scope), []).append(index)
            roots_by.setdefault((v.importer, v.scope), []).append(index)
    notes: dict[int, list[Related]] = {}
    kept: list[int] = []
    for index, v in enumerate(violations):
        root = _root(v, violations, roots_at, roots_by) if v.code in ROOTS and v.code in wanted else None
        if root is None:
            kept.append(index)
        else:
            notes.setdefault(root, []).append(_note(project, v))
    result = []
    for index in kept:
        v = violations[index]
        if index in notes:
            v = replace(v, related=v.related + tuple(sorted(notes[index], key=lambda n: (n.code, n.path, n.line))))
        result.append(v)
    return result


def _root(v: Violation, violations, roots_at, roots_by) -> int | None:
    codes = ROOTS[v.code]
    if v.code == "SG402":
        candidates = roots_at.get((v.path, v.line, v.scope), [])
    elif len(v.chain) >= 2:
        candidates = [i for i in roots_by.get((v.chain[-2], v.scope), []) if violations[i].imported == v.chain[-1]]
        candidates = candidates or roots_by.get((v.chain[-2], v.scope), [])
    else:
        return None
    for code in codes:
        for index in candidates:
            if violations[index].code == code:
                return index
    return None


def _note(project: Project, v: Violation) -> Related:
    steps = _steps(project, v.chain)
    path, line, column = v.path, v.line, v.column
    if v.code == "SG402" and steps and steps[0].line:  # where `import root` starts the chain
        path, line, column = steps[0].path, steps[0].line, steps[0].column
    return Related(v.code, path, line, column, v.message, v.chain, steps)


def _steps(project: Project, chain: tuple[str, ...]) -> tuple[Step, ...]:
    """Each link of a chain located at the import that makes it (line 0 where none is known, e.g.
    a package loaded because a submodule is)."""
    graph = project.graph
    steps = []
    for importer, imported in zip(chain, chain[1:]):
        facts = graph.files.get(importer)
        sites = graph.sites_between(importer, imported, lambda site: True) if facts is not None else []
        if facts is None or not sites:
            steps.append(Step(imported, facts.path if facts is not None else "", 0, 0))
            continue
        site = min(sites, key=lambda s: (s.line, s.column))
        at = facts.statement_at(site.line)
        line, column = at if at is not None else (site.line, site.column)
        steps.append(Step(imported, facts.path, line, column))
    return tuple(steps)
