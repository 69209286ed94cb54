"""Globs from the tree (`exclude`, `per_file_ignores`) matched in linear time.

pathspec turns a gitignore pattern into a regular expression and matches it with `re`, which
backtracks: `*a*a*a*a*a*a*a*a*b` becomes eight `[^/]*` in a row, and one 400-character file name
already takes seconds (4,000: hours). Both the pattern and the file names come from the analysed
tree. So pathspec still reads each pattern (git's semantics stay its own), and the expression it
produces is run here instead, by a Pike VM: every position of the expression is one state, the
states are advanced together one character at a time, so a match costs O(len(name) x
len(pattern)) whatever the pattern. The VM keeps the threads in `re`'s priority order and so finds
the match `re` would (and whether pathspec's directory-marker group took part in it).

Only the constructs pathspec's gitwildmatch translation writes are understood; anything else is
refused (ValueError), never handed back to `re`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIR_GROUP = "(?P<ps_d>/)"
# Fixed pieces of pathspec's translation (longest first), as program fragments.
_PIECES = (
    ("(?:(?P<ps_d>/)|$)", "dir_or_end"),
    ("(?P<ps_d>/)", "dir"),
    ("(?:.+/)?", "opt_dirs_before"),
    ("(?:/.+)?", "opt_dirs_after"),
    ("(?:/.*)?", "opt_rest"),
    ("[^/]+", "part_plus"),
    ("[^/]*", "part_star"),
    ("[^/]", "part_one"),
)
_SPECIAL = set(".^$*+?{}[]\\|()")


def _any(ch: str) -> bool:
    return ch != "\n"  # `.` without DOTALL, as pathspec compiles it


def _part(ch: str) -> bool:
    return ch != "/"


class LinearRegex:
    """The subset of regular expressions pathspec writes for gitwildmatch patterns, with `re`'s
    `search()` answer (match or None; the `ps_d` group's participation), in linear time."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.anchored = False
        program: list[tuple] = []
        emit = program.append

        def char(pred) -> None:
            emit(("c", pred))

        def star(pred) -> None:  # pred*
            start = len(program)
            emit(("s", start + 1, start + 3))
            char(pred)
            emit(("j", start))

        def optional(build) -> None:
            at = len(program)
            emit(None)  # split, patched below
            build()
            program[at] = ("s", at + 1, len(program))

        i = 0
        if pattern.startswith("^"):
            self.anchored, i = True, 1
        while i < len(pattern):
            piece = next((name for text, name in _PIECES if pattern.startswith(text, i)), None)
            if piece is not None:
                i += next(len(text) for text, name in _PIECES if name == piece)
                if piece == "dir_or_end":
                    at = len(program)
                    emit(None)
                    emit(("m",))
                    char("/".__eq__)
                    jump = len(program)
                    emit(None)
                    program[at] = ("s", at + 1, len(program))
                    emit(("e",))
                    program[jump] = ("j", len(program))
                elif piece == "dir":
                    emit(("m",))
                    char("/".__eq__)
                elif piece == "opt_dirs_before":
                    optional(lambda: (char(_any), star(_any), char("/".__eq__)))
                elif piece == "opt_dirs_after":
                    optional(lambda: (char("/".__eq__), char(_any), star(_any)))
                elif piece == "opt_rest":
                    optional(lambda: (char("/".__eq__), star(_any)))
                elif piece == "part_plus":
                    char(_part)
                    star(_part)
                elif piece == "part_star":
                    star(_part)
                else:
                    char(_part)
                continue
            ch = pattern[i]
            if ch == "[":
                end = _bracket_end(pattern, i)
                try:
                    compiled = re.compile(pattern[i:end])
                except re.error as err:
                    raise ValueError(f"unsupported character class in {pattern!r}: {err}") from None
                char(lambda c, compiled=compiled: compiled.fullmatch(c) is not None)
                i = end
            elif ch == "\\" and i + 1 < len(pattern) and not pattern[i + 1].isalnum():
                char(pattern[i + 1].__eq__)
                i += 2
            elif ch == "." and i + 1 == len(pattern) or ch == "." and pattern[i + 1] not in "*+?{":
                char(_any)
                i += 1
            elif ch == "$" and i + 1 == len(pattern):
                emit(("e",))
                i += 1
            elif ch not in _SPECIAL:
                char(ch.__eq__)
                i += 1
            else:
                raise ValueError(f"unsupported construct at {i} in {pattern!r}")
        emit(("a",))
        self.program = program

    def search(self, text: str):
        """A match object (only groupdict()) when `re.search(self.pattern, text)` matches, else None."""
        program, n = self.program, len(text)

        def add(threads: list, seen: set, pc: int, mark: bool, pos: int) -> None:
            stack = [(pc, mark)]
            while stack:
                pc, mark = stack.pop()
                if pc in seen:
                    continue
                seen.add(pc)
                op = program[pc]
                kind = op[0]
                if kind == "j":
                    stack.append((op[1], mark))
                elif kind == "s":  # the preferred branch is popped first
                    stack.append((op[2], mark))
                    stack.append((op[1], mark))
                elif kind == "m":
                    stack.append((pc + 1, True))
                elif kind == "e":
                    if pos == n or (pos == n - 1 and text[pos] == "\n"):
                        stack.append((pc + 1, mark))
                else:
                    threads.append((pc, mark))

        matched = None
        threads: list = []
        seen: set = set()
        for pos in range(n + 1):
            if matched is None and (pos == 0 or not self.anchored):
                add(threads, seen, 0, False, pos)  # a later start has the lowest priority
            if not threads:
                if matched is not None or self.anchored:
                    break
                seen = set()
                continue
            following: list = []
            following_seen: set = set()
            ch = text[pos] if pos < n else ""
            for pc, mark in threads:
                op = program[pc]
                if op[0] == "a":
                    matched = mark
                    break  # the threads after this one have a lower priority
                if pos < n and op[1](ch):
                    add(following, following_seen, pc + 1, mark, pos + 1)
            threads, seen = following, following_seen
        if matched is None and threads:
            for pc, mark in threads:
                if program[pc][0] == "a":
                    matched = mark
                    break
        return None if matched is None else _Match(matched)

    match = search  # pathspec calls search(); every pattern it writes is anchored or position-free


class _Match:
    __slots__ = ("dir",)

    def __init__(self, dir_mark: bool) -> None:
        self.dir = dir_mark

    def groupdict(self) -> dict:
        return {"ps_d": "/" if self.dir else None}

    def group(self, *_):  # pragma: no cover - pathspec does not read the text matched
        return ""


def _bracket_end(pattern: str, start: int) -> int:
    """The index after the `]` closing the character class that starts at `start`, as `re` reads it."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i + 1
        i += 1
    raise ValueError(f"unterminated character class in {pattern!r}")


def linear_spec(lines: Iterable[str], *, gitignore: bool = True):
    """A pathspec spec of gitignore patterns (GitIgnoreSpec) or gitwildmatch globs (PathSpec) whose
    patterns match through LinearRegex. ValueError for a pattern git refuses or this cannot run."""
    import pathspec

    lines = list(lines)

    def build(**backend):
        if gitignore:
            return pathspec.GitIgnoreSpec.from_lines(lines, **backend)
        return pathspec.PathSpec.from_lines("gitwildmatch", lines, **backend)

    try:
        spec = build(backend="simple")  # pathspec >= 1.0: the plain backend calls pattern.regex
    except TypeError:
        spec = build()
    for pattern in spec.patterns:
        regex = getattr(pattern, "regex", None)
        if regex is not None and not isinstance(regex, LinearRegex):
            pattern.regex = LinearRegex(regex.pattern if hasattr(regex, "pattern") else str(regex))
    return spec
