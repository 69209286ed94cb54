"""Toggles written at import time by code other than their own definition (issue 24, namespace writes).

A guard `if config.USE_FEAT:` (or `from pkg.config import USE_FEAT` and `if USE_FEAT:`) keeps the
scope out only while nothing turns the toggle on before the test runs. Python lets any module do
that while it is imported: `config.USE_FEAT = True`, `setattr(config, "USE_FEAT", 1)`, or a
`setattr` whose attribute is computed, on the toggle's module or on an object it was imported from,
at module level or in a function that runs at import time (analysis/import_time.py) - and then
import the module whose guard trusts the toggle, which loads the scope with the toggle "off".

The closed world: a write of an attribute named like one of a toggle's spellings (or of a computed
attribute) on a module whose global a guard of the toggle may read (the guard's own module, and
the modules it takes the spelling from by `from M import NAME`, in turn), or on any object of the
project when some guard tests the toggle as an attribute (`if Flags.USE_FEAT:`) - facts/names.py records them as `Patch` facts - that may run
at import time and does not itself need the toggle on. Such a toggle is *written*:
its guards stop counting as the scope's toggle (analysis/verdicts.py `trusted_toggle`), so the
imports behind them are reported and followed by the deletion as unguarded - with the writes named
in the message. Deletions (`del config.USE_FEAT`) do not turn a toggle on and are left out; so are
writes inside functions no import-time code reaches (a user calling `enable_feat()` turns the
feature on on purpose).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ..base.model import TYPE_CHECKING, EffectKind, FileFacts, GuardKind, Patch, Scope, Toggle

_WRITES = ("assign", "augassign", "setattr")


def written_toggles(files: dict[str, FileFacts], modules: frozenset[str],
                    toggles: Iterable[Toggle]) -> dict[str, tuple[str, ...]]:
    """Toggle name -> where it is written at import time ("path:line"), for toggles written so."""
    toggles = [t for t in toggles if t.on_when_true or t.on_when_false]
    if not toggles:
        return {}
    tops = {m.partition(".")[0] for m in modules}
    spelled: dict[str, list[str]] = {}  # attribute name -> toggles spelled with it
    for toggle in toggles:
        for spelling in (*toggle.on_when_true, *toggle.on_when_false):
            spelled.setdefault(spelling.rpartition(".")[2], []).append(toggle.name)
    as_attribute = _tested_as_attribute(files, spelled)
    homes = _homes(files, spelled)
    found: dict[str, dict[str, None]] = {}
    in_functions: dict[str, list[tuple[Patch, FileFacts, list[str]]]] = {}
    for facts in files.values():
        if not facts.patches:
            continue
        def_lines = None
        for patch in facts.patches:
            if patch.how not in _WRITES or patch.target.partition(".")[0] not in tops:
                continue
            names = spelled.get(patch.attribute, []) if patch.attribute else [t.name for t in toggles]
            # an object's attribute: only a test `X.NAME` reads it; a module's: a test reads it as
            # that module's global, or after `from M import NAME` (at import time, in any chain)
            names = [n for n in names if n in as_attribute or patch.target in homes.get(n, ())]
            names = [n for n in names if patch.state_required(n) is not True]
            if not names or _never(patch):
                continue
            inner = [g for g in patch.guards if g.kind is GuardKind.FUNCTION]
            if not inner:
                for name in names:
                    found.setdefault(name, {})[f"{facts.path}:{patch.line}"] = None
                continue
            if def_lines is None:
                def_lines = {e.line: e.name for e in facts.effects if e.kind is EffectKind.DEF}
            context = def_lines.get(inner[-1].line)
            if context is None:  # a function the effects do not name: it may run
                for name in names:
                    found.setdefault(name, {})[f"{facts.path}:{patch.line}"] = None
                continue
            in_functions.setdefault(f"{facts.module}.{context}", []).append((patch, facts, names))
    if in_functions:
        from .import_time import analysis_of

        for reached in analysis_of(files, modules).reached(also=in_functions):
            for patch, facts, names in in_functions.get(reached.function, ()):
                for name in names:
                    if not any((name, True) in g.knowledge for g in reached.guards):
                        found.setdefault(name, {})[f"{facts.path}:{patch.line}"] = None
    return {name: tuple(sorted(where)) for name, where in sorted(found.items())}


def mark_written(scopes: Iterable[Scope], written: dict[str, tuple[str, ...]]) -> tuple[Scope, ...]:
    """The scopes, those whose toggle is written at import time carrying where (`toggle_written`)."""
    return tuple(dataclasses.replace(s, toggle_written=written[s.toggle]) if s.toggle in written else s
                 for s in scopes)


def _homes(files: dict[str, FileFacts], spelled: dict[str, list[str]]) -> dict[str, set[str]]:
    """Toggle -> the modules whose global a guard of it may read: the module of every file with
    such a guard, and every module such a module takes a spelling from (`from M import NAME`),
    in turn."""
    homes: dict[str, set[str]] = {}
    takes: dict[str, list[tuple[str, list[str]]]] = {}  # module -> (module it takes from, toggles)
    for facts in files.values():
        for site in facts.sites:
            if site.name in spelled and site.target:
                takes.setdefault(facts.module, []).append((site.target, spelled[site.name]))
            for guard in site.guards:
                for name, _ in guard.knowledge:
                    homes.setdefault(name, set()).add(facts.module)
    for name, modules in homes.items():
        work = list(modules)
        while work:
            for source, names in takes.get(work.pop(), ()):
                if name in names and source not in modules:
                    modules.add(source)
                    work.append(source)
    return homes


def _tested_as_attribute(files: dict[str, FileFacts], spelled: dict[str, list[str]]) -> set[str]:
    """Toggles some guard tests as an attribute (`if config.USE_FEAT:`, `if Flags.USE_FEAT:`): only
    those can be turned on by writing an attribute of an object that is not a module. A test of a
    bare name reads a module's global, which only a write on that module (or a copy of it) changes."""
    out: set[str] = set()
    for facts in files.values():
        for site in facts.sites:
            for guard in site.guards:
                if not guard.knowledge:
                    continue
                text = guard.text
                for attribute, names in spelled.items():
                    if "." + attribute in text and any(n not in out for n in names):
                        out.update(names)
    return out


def _never(patch: Patch) -> bool:
    return any((TYPE_CHECKING, True) in g.knowledge or g.kind is GuardKind.DEAD for g in patch.guards)
