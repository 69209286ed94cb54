"""How an import (or any guarded site) of a scope is protected, seen from that scope.

`classify` is the one answer the rules (SG2xx, SG403), the deletion simulation and the graph views
share; `survives_deletion` is what the deletion simulation asks of every site.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from ..base.model import Execution, Guarded, Scope
from ..base.model import TYPE_CHECKING, GuardKind, ImportSite, SiteKind

IMPORT_ERROR = "ImportError"
MODULE_NOT_FOUND = "ModuleNotFoundError"
ATTRIBUTE_ERROR = "AttributeError"
# A module that fails in turn (not deleted itself) may raise any of them: only a handler catching
# every import failure (ImportError) is sure to catch it.
ANY_IMPORT_FAILURE = "any"


class Verdict(enum.Enum):
    """How an import of a scope is protected, seen from that scope."""

    TOGGLE = "guarded by the scope's toggle"
    OPTIONAL = "inside try/except ImportError only"
    TYPE = "under TYPE_CHECKING only"
    WRONG_TOGGLE = "guarded by a toggle that is not the scope's"
    NONE = "unguarded"
    DEAD = "never runs (its condition is always false, or it follows an unconditional exit)"


def classify(site: Guarded, scope: Scope) -> Verdict:
    if site.execution is Execution.NEVER:
        return Verdict.TYPE if site.state_required(TYPE_CHECKING) is True else Verdict.DEAD
    if scope.trusted_toggle is not None and site.state_required(scope.trusted_toggle) is True:
        return Verdict.TOGGLE
    if caught(site, failure(site, scope)):
        return Verdict.OPTIONAL
    if site.toggles_required_on - {scope.toggle}:  # its own toggle, when written at import time, is none
        return Verdict.WRONG_TOGGLE
    return Verdict.NONE


def failure(site: Guarded, scope: Scope) -> str:
    """The exception the site raises once `scope` is deleted: a handler protects a site only
    against that one. `import a.b`, `from a.b import c` and dynamic imports of a deleted module
    raise ModuleNotFoundError; `from a import b` with `a` kept raises a plain ImportError ("cannot
    import name"), which `except ModuleNotFoundError` does not catch; `from a import *` whose
    `__all__` names a deleted submodule raises AttributeError; a module that fails in turn may
    raise any of them."""
    if not isinstance(site, ImportSite):
        return ANY_IMPORT_FAILURE
    if site.raises:
        return site.raises
    if site.kind is SiteKind.FROM:
        if scope.contains(site.target):
            return MODULE_NOT_FOUND  # from a.deleted import x: the module itself is missing
        if site.name == "*":
            return ATTRIBUTE_ERROR  # __all__ names a missing submodule: getattr fails
        return IMPORT_ERROR if scope.contains(site.dotted) else ANY_IMPORT_FAILURE
    return MODULE_NOT_FOUND if scope.contains(site.target) else ANY_IMPORT_FAILURE


def _catches(catches: frozenset[str], exception: str) -> bool:
    if not catches:
        return True  # allow_missing=True and the like: nothing fails
    if exception == ANY_IMPORT_FAILURE:
        return IMPORT_ERROR in catches
    if exception == MODULE_NOT_FOUND:
        return IMPORT_ERROR in catches or MODULE_NOT_FOUND in catches
    return exception in catches


def caught(site: Guarded, exception: str) -> bool:
    """An OPTIONAL guard inside the site's innermost function catches `exception` and goes on."""
    found = False
    for guard in site.guards:
        if guard.kind is GuardKind.FUNCTION:
            found = False
        elif guard.kind is GuardKind.OPTIONAL and _catches(guard.catches, exception):
            found = True
    return found


def survives_deletion(site: Guarded, scope: Scope, toggles_off: Iterable[str]) -> bool:
    """Whether a site that loads deleted (or failing) code leaves its module importable, or its
    function callable, once `scope` is deleted with the toggles `toggles_off` off (the scope's own
    among them): it does not run (it needs an off toggle on, it runs only under TYPE_CHECKING, it is
    dead code), or the exception deletion raises there is caught by a handler that goes on."""
    if not site.guards:
        return False  # most sites: nothing to work out (and this runs for every edge, per scope)
    if any(site.state_required(toggle) is True for toggle in toggles_off):
        return True
    return classify(site, scope) in (Verdict.OPTIONAL, Verdict.TYPE, Verdict.DEAD)
