"""`# scopeguard: ignore[CODES]` comments: line -> codes suppressed there."""

from __future__ import annotations

import re

_SUPPRESSION = re.compile(rb"#\s*scopeguard:\s*ignore(?:\[([A-Za-z0-9_,\s]*)\])?")


def suppressions(source: bytes) -> tuple[tuple[int, tuple[str, ...]], ...]:
    if b"scopeguard:" not in source:
        return ()
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = _SUPPRESSION.search(line)
        if match is None:
            continue
        codes = match.group(1)
        parsed = tuple(c.strip().upper() for c in codes.decode("ascii").split(",") if c.strip()) if codes else ()
        found.append((number, parsed))
    return tuple(found)
