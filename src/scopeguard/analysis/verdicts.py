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


# What may arrive at a handler: a set of exception tokens (facts/handlers.py CATCHES: the import
# failures, "RuntimeError", "Error" for another subclass of Exception, "?" for anything).
Exceptions = frozenset[str]
OUTCOME = "->"  # facts/handlers.py: a CONVERTS guard's mark of what leaves in place of what it caught


def _converted(guard, exceptions: Exceptions) -> Exceptions:
    """What leaves a CONVERTS guard (a handler that may raise instead, or `__set_name__`): each
    exception it surely catches is replaced by what it may raise; one it may catch ("*" for all,
    an import failure of unknown kind, anything) stays and gains what it may raise."""
    caught = frozenset(c for c in guard.catches if not c.startswith(OUTCOME))
    outcomes = frozenset(c[len(OUTCOME):] for c in guard.catches if c.startswith(OUTCOME)) or frozenset({"?"})
    out: set[str] = set()
    hit = False
    for exception in exceptions:
        if "*" not in caught and caught and _catches(caught, exception):
            hit = True  # surely caught here: replaced
            continue
        out.add(exception)
        if "*" in caught or exception in ("?", ANY_IMPORT_FAILURE) or exception in caught:
            hit = True
    return frozenset(out | outcomes) if hit else exceptions


def escapes(site: Guarded, exceptions: Exceptions) -> Exceptions | None:
    """What leaves the site's innermost function (or module level) when the site raises one of
    `exceptions`, following it outwards through its guards: None when an OPTIONAL guard that goes
    on catches every one; converted where a handler (or `__set_name__`) may raise another error
    instead. A handler outside the innermost function does not protect its body (called later)."""
    for guard in reversed(site.guards):
        if guard.kind is GuardKind.FUNCTION:
            break
        if guard.kind is GuardKind.OPTIONAL and all(_catches(guard.catches, e) for e in exceptions):
            return None
        if guard.kind is GuardKind.CONVERTS:
            exceptions = _converted(guard, exceptions)
    return exceptions


def caught(site: Guarded, exception: str | Exceptions) -> bool:
    """An OPTIONAL guard inside the site's innermost function catches `exception` (as it arrives
    there, through the handlers between) and goes on."""
    exceptions = frozenset({exception}) if isinstance(exception, str) else exception
    return escapes(site, exceptions) is None


def survives_deletion(site: Guarded, scope: Scope, toggles_off: Iterable[str], arriving: Exceptions | None = None) -> bool:
    """Whether a site that loads deleted (or failing) code leaves its module importable, or its
    function callable, once `scope` is deleted with the toggles `toggles_off` off (the scope's own
    among them): it does not run (it needs an off toggle on, it runs only under TYPE_CHECKING, it is
    dead code), or the exception deletion raises there is caught by a handler that goes on.
    `arriving`: what the imported module raises when it fails in turn (`escapes` of the site that
    breaks it); by default, an import failure."""
    if not site.guards:
        return False  # most sites: nothing to work out (and this runs for every edge, per scope)
    if any(site.state_required(toggle) is True for toggle in toggles_off):
        return True
    if arriving is not None and site.execution is not Execution.NEVER:
        # the imported module fails with `arriving` (not an import failure of its own)
        return caught(site, arriving | _raised(site))
    return classify(site, scope) in (Verdict.OPTIONAL, Verdict.TYPE, Verdict.DEAD)


def _raised(site: Guarded) -> Exceptions:
    raises = getattr(site, "raises", "")
    return frozenset({raises}) if raises else frozenset()
