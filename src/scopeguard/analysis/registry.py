"""Who owns a registry name (`get_global_func("relax.x")`, `init_ffi_api("relax")`): the scope with
the longest matching prefix among its dotted name and its `ffi_prefixes`. SG102/SG207 and the
graph's coupling edges decide owners here, so that a finding marks its edge.
"""

from __future__ import annotations

from ..base.model import Config, NameReference, ReferenceKind, Scope


def registry_name(reference: NameReference) -> str:
    """The name a reference stands for; an INIT_API namespace stands for every name under it."""
    return reference.text + "." if reference.kind is ReferenceKind.INIT_API else reference.text


def name_owner(config: Config, name: str) -> tuple[Scope, str] | None:
    """The scope owning a registry name, with the prefix that decided it (the longest match)."""
    best: tuple[Scope, str] | None = None
    for scope in config.scopes:
        for prefix in scope.owned_prefixes:
            if name.startswith(prefix) and (best is None or len(prefix) > len(best[1])):
                best = (scope, prefix)
    return best


def may_own(scope: Scope, reference: NameReference) -> bool:
    """Whether a name known only by its start (f"relax.{x}") can lie under the scope's prefixes."""
    name = registry_name(reference)
    return any(prefix.startswith(name) or name.startswith(prefix) for prefix in scope.owned_prefixes)
