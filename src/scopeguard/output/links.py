"""Where scopeguard's own documentation lives, for links from reports (SARIF helpUri, text hints).

The repository address is written once, here. Rule pages are linked at the release tag of the
running version (tags are `v` + `scopeguard.__version__`, the scheme pre-commit's `rev:` pins), so
a report links the documentation of the rules that produced it.
"""

from __future__ import annotations

from .. import __version__

REPOSITORY = "https://github.com/scopeguard-s0/scopeguard"
RULE_DOCS = "docs/rules"  # in the repository: one page per rule, generated (`scopeguard rule --write-docs`)


def release_tag(version: str = __version__) -> str:
    return f"v{version}"


def rule_url(code: str) -> str:
    """The page of rule `code` at this version's tag."""
    return f"{REPOSITORY}/blob/{release_tag()}/{RULE_DOCS}/{code}.md"


def rule_hint(codes) -> str:
    """One line for people reading a text report: where each code is explained."""
    first = min(codes)
    return (f"scopeguard: `scopeguard rule {first}` explains a code (what, why, how to fix); "
            f"pages: {RULE_DOCS}/{first}.md in scopeguard's repository ({rule_url(first)})")
