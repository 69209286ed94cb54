"""The analysis core, below the rules and every consumer of the graph: the analysis context
(`Project`), how a site of a scope is guarded (`guards`), and the deletion simulation (`deletion`).

It reads facts and the import graph only — no files, no wording of findings — and imports nothing
above `graph` (the layers contract in tests/test_layers.py holds it to that).
"""

from .simulation import Breakage, DeletionPlan, LazyBreak, Reference, format_chain, simulate_deletion
from .verdicts import Verdict, classify, survives_deletion
from .project import Project, owner

__all__ = [
    "Breakage",
    "DeletionPlan",
    "LazyBreak",
    "Project",
    "Reference",
    "Verdict",
    "classify",
    "format_chain",
    "owner",
    "simulate_deletion",
    "survives_deletion",
]
