"""Unified diffs that `git apply` accepts: a changed text file, a deleted file (text or symlink).

Paths are project-relative with forward slashes; the patch applies at the project root
(`git apply PATCH` there, or `git apply --directory=SUB` from a repository above it). A file with
no final newline gets git's `\\ No newline at end of file` marker. Binary files are not written
here: the caller lists them as not editable.
"""

from __future__ import annotations

import difflib

_NO_EOL = "\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _marked(line: str) -> str:
    return line if line.endswith("\n") else line + "\n" + _NO_EOL


def _quote(path: str) -> str:
    if any(c in path for c in ' \t"\\') or not path.isprintable():
        raise ValueError(f"{path!r}: a path git would quote; not written into the patch")
    return path


def changed(path: str, old: str, new: str, *, context: int = 3) -> str:
    """The diff turning `old` into `new` for `path`; empty when nothing changed."""
    if old == new:
        return ""
    path = _quote(path)
    out = [f"diff --git a/{path} b/{path}\n"]
    body = difflib.unified_diff(_lines(old), _lines(new), f"a/{path}", f"b/{path}", n=context, lineterm="\n")
    for line in body:
        out.append(_marked(line))
    return "".join(out)


def deleted(path: str, text: str, mode: int = 0o100644) -> str:
    """The diff deleting `path`, whose content is `text` (a symlink: its target, mode 0o120000)."""
    path = _quote(path)
    head = f"diff --git a/{path} b/{path}\ndeleted file mode {mode:o}\n"
    lines = _lines(text)
    if not lines:
        return head
    count = f"1,{len(lines)}" if len(lines) != 1 else "1"
    return head + f"--- a/{path}\n+++ /dev/null\n@@ -{count} +0,0 @@\n" + "".join(_marked("-" + line) for line in lines)
