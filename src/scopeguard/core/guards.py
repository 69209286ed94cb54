"""How an import (or any guarded site) of a scope is protected, seen from that scope.

`classify` is the one answer the rules (SG2xx, SG403), the deletion simulation and the graph views
share; `survives_deletion` is what the deletion simulation asks of every site.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from ..model import Execution, Guarded, Scope


class Verdict(enum.Enum):
    """How an import of a scope is protected, seen from that scope."""

    TOGGLE = "guarded by the scope's toggle"
    OPTIONAL = "inside try/except ImportError only"
    TYPE = "under TYPE_CHECKING only"
    WRONG_TOGGLE = "guarded by another scope's toggle"
    NONE = "unguarded"


def classify(site: Guarded, scope: Scope) -> Verdict:
    if site.execution is Execution.NEVER:
        return Verdict.TYPE
    if scope.toggle is not None and site.state_required(scope.toggle) is True:
        return Verdict.TOGGLE
    if site.is_optional:
        return Verdict.OPTIONAL
    if site.toggles_required_on:
        return Verdict.WRONG_TOGGLE
    return Verdict.NONE


def survives_deletion(site: Guarded, scope: Scope, toggles_off: Iterable[str]) -> bool:
    """Whether a site that loads deleted (or failing) code leaves its module importable, or its
    function callable, once `scope` is deleted with the toggles `toggles_off` off (the scope's own
    among them): it does not run (it needs an off toggle on, or it runs only under TYPE_CHECKING),
    or the ImportError is caught."""
    if not site.guards:
        return False  # most sites: nothing to work out (and this runs for every edge, per scope)
    if any(site.state_required(toggle) is True for toggle in toggles_off):
        return True
    return classify(site, scope) in (Verdict.OPTIONAL, Verdict.TYPE)
