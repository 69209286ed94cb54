"""GitHub Actions workflow commands: one annotation per finding, shown on the pull request's diff.

    ::error file=python/tvm/driver/build.py,line=21,col=29,title=SG201::tvm.driver.build imports ...

GitHub resolves `file` against the repository root, so paths are relative to it (not to the
working directory or the project). Every value goes through `_data` or `_property`: the runner's
workflow-command encoding (`%25`, `%0D`, `%0A` in data; also `%3A` and `%2C` in properties), then
`printable` (every other control character, the separators and bidi controls as visible escapes,
as in the text report), so a name from the tree can neither end the command nor start a line.
The summary line, when printed, is the text report's, escaped the same way.
"""

from __future__ import annotations

from ...base.model import Severity
from ...base.text import printable
from .base import Report


def render(report: Report, *, quiet: bool = False) -> str:
    from .text import summary

    lines = []
    for v in report.violations:
        level = "error" if v.severity is Severity.ERROR else "warning"
        properties = [f"file={_property(report.repo_path(v.path))}"]
        if v.line > 0:
            properties.append(f"line={v.line}")
            if v.column > 0:
                properties.append(f"col={v.column}")
        properties.append(f"title={_property(v.code)}")
        lines.append(f"::{level} {','.join(properties)}::{_data(v.message)}")
    for entry in report.stale:
        baseline = report.repo_path(report.baseline_path)
        message = (
            f"stale baseline entry {entry.code} {entry.importer} -> {entry.imported} ({entry.path}): recorded "
            f"{entry.recorded}, found {entry.found}; run `scopeguard baseline` to shrink the baseline"
        )
        lines.append(f"::notice file={_property(baseline)},title=stale baseline entry::{_data(message)}")
    if not quiet:
        lines.append(printable(summary(report)))
    return "".join(line + "\n" for line in lines)


def _data(text: str) -> str:
    """The runner's encoding of CR and LF (the message shows them as line breaks), then every other
    character a terminal or reader acts on escaped as in the text report."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
