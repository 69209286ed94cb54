"""GitHub Actions workflow commands: one annotation per finding, shown on the pull request's diff.

    ::error file=python/tvm/driver/build.py,line=21,col=29,title=SG201::tvm.driver.build imports ...

GitHub resolves `file` against the repository root, so paths are relative to it (not to the
working directory or the project). Values are escaped as the runner expects: `%`, CR and LF
everywhere, and `:` and `,` in properties.
"""

from __future__ import annotations

from ...base.model import Severity
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
        lines.append(summary(report))
    return "".join(line + "\n" for line in lines)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
