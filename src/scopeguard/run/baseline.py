"""The baseline: today's violations, recorded so that `check` reports only new ones.

A codebase adopts scopeguard by recording what it finds today (`scopeguard baseline`), committing
that file, and letting `check` fail only on what is not recorded. Entries that no longer occur are
reported as stale, so the file only shrinks.

Format: JSON, chosen over TOML because the standard library both reads and writes it (writing TOML
needs another dependency) and because one entry fits on one line, so a review diff shows exactly
the findings added or fixed. Entries are keyed without line numbers — (code, path, importer,
imported, scope) and how often that occurs — so editing a file above a recorded import does not
invalidate the baseline. Entries are sorted and nothing else (no date, no absolute path) is
written, so writing the baseline twice gives the same bytes.

    {
      "scopeguard_baseline": 1,
      "entries": [
        {"code": "SG201", "path": "python/tvm/driver/build.py", "importer": "tvm.driver.build", "imported": "tvm.contrib.msc", "scope": "tvm.contrib.msc", "count": 1}
      ]
    }
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..base.model import Violation

BASELINE_NAME = "scopeguard-baseline.json"  # at the project root; `check` uses it when present
FORMAT_VERSION = 1
_FIELDS = ("code", "path", "importer", "imported", "scope")

Key = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class StaleEntry:
    """A baseline entry that no longer occurs as often as recorded: the baseline can shrink."""

    code: str
    path: str
    importer: str
    imported: str
    scope: str
    recorded: int  # the count in the baseline file
    found: int  # how often it occurs now (fewer than recorded)


class BaselineError(Exception):
    """The baseline file cannot be used; the message says which file and what is wrong."""


def record(violations: Iterable[Violation]) -> Counter[Key]:
    return Counter(v.identity for v in violations)


def dumps(counts: Counter[Key]) -> str:
    """The baseline file's text: one sorted entry per line."""
    import json  # here and in load(): `check` imports this module on every run, json only when used

    entries = []
    for entry_key in sorted(counts):
        entry = dict(zip(_FIELDS, entry_key, strict=True))
        entry["count"] = counts[entry_key]
        entries.append("    " + json.dumps(entry, ensure_ascii=False))
    body = ",\n".join(entries)
    return (
        "{\n"
        f'  "scopeguard_baseline": {FORMAT_VERSION},\n'
        + ('  "entries": [\n' + body + "\n  ]\n" if entries else '  "entries": []\n')
        + "}\n"
    )


MAX_BASELINE_BYTES = 64 * 1024 * 1024


# No project has this many copies of one finding; a larger count is not one scopeguard wrote.
_MAX_COUNT = 10**9


def _short(value) -> str:
    """A value from the file, shown bounded (a 4,000-digit number or a deep list stays short)."""
    import reprlib

    shown = reprlib.Repr()
    shown.maxlevel, shown.maxlong, shown.maxstring, shown.maxother = 3, 40, 60, 60
    try:
        return shown.repr(value)
    except (RecursionError, ValueError):
        return "(a value too large to show)"


def load(path: str, *, follow: bool = True) -> Counter[Key]:
    """The counts of a baseline file. Read as sources are (safeio.read_regular): a regular file
    only, bounded, without blocking; with follow=False (the project's own default baseline) a
    symlink is refused, so a committed link cannot make scopeguard read a file elsewhere."""
    from ..base.safeio import read_regular

    try:
        text = read_regular(path, MAX_BASELINE_BYTES, follow=follow)[0].decode("utf-8")
    except OSError as error:
        why = error.strerror or str(error)
        if not follow and os.path.islink(path):
            why = "it is a symlink; scopeguard reads the project's own baseline only as a regular file"
        raise BaselineError(f"{path}: cannot read the baseline: {why}") from None
    except UnicodeDecodeError:
        raise BaselineError(f"{path}: the baseline is not UTF-8 text; regenerate it with `scopeguard baseline`") from None
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(
            f"{path}:{error.lineno}: the baseline is not valid JSON ({error.msg}); "
            "fix it or regenerate it with `scopeguard baseline`"
        ) from None
    except (RecursionError, MemoryError):
        # json recurses once per nested array or object: thousands deep exhaust the stack.
        raise BaselineError(f"{path}: the baseline nests arrays or objects too deeply to read; "
                            "regenerate it with `scopeguard baseline`") from None
    except ValueError:  # an integer of more than 4,300 digits (Python's int-from-string limit)
        raise BaselineError(f"{path}: the baseline holds a number too large to read; "
                            "regenerate it with `scopeguard baseline`") from None
    if not isinstance(data, dict) or "scopeguard_baseline" not in data:
        raise BaselineError(f"{path}: not a scopeguard baseline (no \"scopeguard_baseline\" key); write one with `scopeguard baseline`")
    if data["scopeguard_baseline"] != FORMAT_VERSION:
        raise BaselineError(
            f"{path}: baseline format {_short(data['scopeguard_baseline'])} is not supported (this scopeguard writes "
            f"{FORMAT_VERSION}); regenerate it with `scopeguard baseline`"
        )
    unknown = sorted(set(data) - {"scopeguard_baseline", "entries"})
    if unknown:
        raise BaselineError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))} in the baseline")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: \"entries\" must be a list")
    counts: Counter[Key] = Counter()
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: entry {number}"
        if not isinstance(entry, dict) or set(entry) != {*_FIELDS, "count"}:
            raise BaselineError(f"{where}: must have exactly the keys {', '.join((*_FIELDS, 'count'))}")
        if not all(isinstance(entry[f], str) for f in _FIELDS):
            raise BaselineError(f"{where}: {', '.join(_FIELDS)} must be strings")
        count = entry["count"]
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= _MAX_COUNT:
            raise BaselineError(f"{where}: count must be a whole number from 1 to {_MAX_COUNT}, not {_short(count)}")
        entry_key = tuple(entry[f] for f in _FIELDS)
        if entry_key in counts:
            raise BaselineError(f"{where}: duplicates an earlier entry; merge their counts")
        counts[entry_key] = count  # type: ignore[index]
    return counts


def split(
    violations: Sequence[Violation],
    known: Counter[Key],
    likely_new: Callable[[Violation], bool] = lambda v: False,
) -> tuple[list[Violation], list[Violation]]:
    """(new, known): per key, up to `known[key]` occurrences count as known, the rest as new.

    Counts cannot tell which of several identical imports is the new one. Occurrences for which
    `likely_new` is true (with --diff: on a changed line) are taken as new first; otherwise the
    last ones in file order are.
    """
    groups: dict[Key, list[Violation]] = {}
    for v in violations:
        groups.setdefault(v.identity, []).append(v)
    new: list[Violation] = []
    old: list[Violation] = []
    for group_key, group in groups.items():
        ordered = sorted(group, key=lambda v: (likely_new(v), v.sort_key))
        allowed = known.get(group_key, 0)
        old += ordered[:allowed]
        new += ordered[allowed:]
    return sorted(new, key=lambda v: v.sort_key), sorted(old, key=lambda v: v.sort_key)


def stale(known: Counter[Key], violations: Sequence[Violation], selected: Callable[[str], bool]) -> list[StaleEntry]:
    """Entries recorded more often than they now occur, for the codes this run checked."""
    found = record(violations)
    out = []
    for entry_key in sorted(known):
        if selected(entry_key[0]) and found[entry_key] < known[entry_key]:
            out.append(StaleEntry(*entry_key, recorded=known[entry_key], found=found[entry_key]))
    return out
