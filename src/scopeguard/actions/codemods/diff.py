"""Unified diffs that `git apply` accepts: a changed text file, a deleted file (text or symlink).

Paths are project-relative with forward slashes; the patch applies at the project root
(`git apply PATCH` there, or `git apply --directory=SUB` from a repository above it). Lines are
git's (`patch_lines`: split at `\\n` only; a form feed, `\\x85`, U+2028 or a lone `\\r` stays inside
its line), and a file with no final newline gets git's `\\ No newline at end of file` marker.
Paths are written as git writes them (`git_path`: C-quoted when git would quote them, and a tab
after a `---`/`+++` name that holds a space). Binary files are not written here: the caller lists
them as not editable.
"""

from __future__ import annotations

import difflib

from ...base.text import git_path, patch_lines

_NO_EOL = "\\ No newline at end of file\n"


def _marked(line: str) -> str:
    return line if line.endswith("\n") else line + "\n" + _NO_EOL


def _names(path: str) -> tuple[str, str, str]:
    """The `diff --git` line and the `---`/`+++` names of `path`, as git prints them."""
    a, b = git_path("a/" + path), git_path("b/" + path)
    tab = "\t" if " " in path else ""  # git's own marker that the name ends there (diff.c)
    return f"diff --git {a} {b}\n", a + tab, b + tab


def changed(path: str, old: str, new: str, *, context: int = 3) -> str:
    """The diff turning `old` into `new` for `path`; empty when nothing changed."""
    if old == new:
        return ""
    head, a, b = _names(path)
    out = [head]
    body = difflib.unified_diff(patch_lines(old), patch_lines(new), a, b, n=context, lineterm="\n")
    for line in body:
        out.append(_marked(line))
    return "".join(out)


def deleted(path: str, text: str, mode: int = 0o100644) -> str:
    """The diff deleting `path`, whose content is `text` (a symlink: its target, mode 0o120000)."""
    head, a, _ = _names(path)
    head += f"deleted file mode {mode:o}\n"
    lines = patch_lines(text)
    if not lines:
        return head
    count = f"1,{len(lines)}" if len(lines) != 1 else "1"
    return head + f"--- {a}\n+++ /dev/null\n@@ -{count} +0,0 @@\n" + "".join(_marked("-" + line) for line in lines)
