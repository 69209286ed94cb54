from __future__ import annotations

import textwrap

from ..harness import Case


def family(name: str):
    """A Case constructor for one family: case(id, code, runtime, **options)."""

    def make(case_id: str, code: str, runtime: str, **options) -> Case:
        # `HEADER + """\n    indented block"""`: dedent the block after the header's blank line.
        head, sep, tail = code.partition("\n\n")
        if sep and tail.startswith(" " * 8) and not any(line.startswith((" ", "\t")) for line in head.split("\n")) and head:
            code = head + "\n" + textwrap.dedent(tail)
        return Case(id=f"{name}-{case_id}", family=name, code=code, runtime=runtime, **options)

    return make


__all__ = ["family"]
