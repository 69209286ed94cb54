"""SARIF 2.1.0, for code-scanning services (GitHub code scanning, GitLab, Azure DevOps, IDE viewers).

- Every rule of the catalogue is listed in `tool.driver.rules`, with its documentation (What it
  does / Why is this bad / Fix, and its examples) as `fullDescription` and `help` (text and
  Markdown), so a service can show why a finding matters without a link.
- Locations are relative to the repository root through the `SRCROOT` base id, which
  `originalUriBaseIds` maps to the repository's absolute `file:` URI: services that check out the
  repository elsewhere (GitHub does) resolve the relative part against their own checkout.
- `partialFingerprints` carry the line-free key the baseline uses (code, path, importer, imported,
  scope, occurrence), so a finding keeps its identity when lines above it move.
- A finding's consequence notes become `relatedLocations` and `codeFlows`, at most
  `RELATED_SHOWN` of each; `properties.relatedCount` gives how many there are (the JSON report and
  `scopeguard delete-plan SCOPE` list them all).
- Every string is made UTF-8 safe in `render` (a lone surrogate becomes the text `\\udcff`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from ... import __version__
from ..links import rule_url
from ...base.model import Severity
from ...base.text import utf8_safe, utf8_safe_data
from .base import Report

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
BASE_ID = "SRCROOT"
RELATED_SHOWN = 10  # relatedLocations and codeFlows per result; properties.relatedCount has the total


def _level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def _rule_descriptor(rule) -> dict:
    doc = inspect.cleandoc(rule.__doc__ or "")
    what = doc.split("## Why is this bad")[0].replace("## What it does", "").strip()
    full = rule.documentation()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": " ".join(what.split())},
        "help": {"text": full, "markdown": full},
        "helpUri": rule_url(rule.code),
        "defaultConfiguration": {"level": _level(rule.severity)},
        "properties": {"tags": ["scopeguard", rule.code[:3] + "xx"]},
    }


def document(report: Report) -> dict:
    from ...rules import CATALOGUE

    rules = sorted(CATALOGUE, key=lambda r: r.code)
    index = {rule.code: i for i, rule in enumerate(rules)}
    occurrence: Counter[tuple] = Counter()
    results = []
    for v in report.violations:
        key = v.identity
        occurrence[key] += 1
        fingerprint = hashlib.sha256(json.dumps([*key, occurrence[key]]).encode()).hexdigest()[:32]
        location = _physical(report, v.path, v.line, v.column)
        result = {
            "ruleId": v.code,
            "level": _level(v.severity),
            "message": {"text": v.message},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {"scopeguard/v1": fingerprint},
        }
        if v.code in index:
            result["ruleIndex"] = index[v.code]
        shown = v.related[:RELATED_SHOWN]
        if shown:
            result["relatedLocations"] = [
                {"id": i, "physicalLocation": _physical(report, n.path, n.line, n.column),
                 "message": {"text": f"{n.code}: {n.message}"}}
                for i, n in enumerate(shown, start=1)
            ]
            flows = [_code_flow(report, n) for n in shown if n.steps]
            if flows:
                result["codeFlows"] = flows
        properties = {k: getattr(v, k) for k in ("importer", "imported", "scope") if getattr(v, k)}
        if v.related:
            properties["relatedCount"] = len(v.related)
        if v.chain:
            properties["chain"] = list(v.chain)
        if properties:
            result["properties"] = properties
        results.append(result)
    run = {
        "tool": {
            "driver": {
                "name": "scopeguard",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule_descriptor(rule) for rule in rules],
            }
        },
        "originalUriBaseIds": {BASE_ID: {"uri": _folder_uri(report.base("sarif"))}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _physical(report: Report, path: str, line: int, column: int) -> dict:
    location: dict = {"artifactLocation": {"uri": _uri(report.repo_path(path)), "uriBaseId": BASE_ID}}
    if line > 0:
        location["region"] = {"startLine": line, **({"startColumn": column} if column > 0 else {})}
    return location


def _uri(path: str) -> str:
    """A relative path as a URI reference: the original bytes of an undecodable name (surrogate
    escapes) percent-encoded; any other lone surrogate as its escape text."""
    try:
        return quote(path, errors="surrogateescape")
    except UnicodeEncodeError:
        return quote(utf8_safe(path))


def _code_flow(report: Report, note) -> dict:
    """A consequence's chain of imports as one thread flow: each link at the import that makes it."""
    locations = [
        {"location": {"physicalLocation": _physical(report, step.path, step.line, step.column),
                      "message": {"text": f"imports {step.module}"}}}
        for step in note.steps if step.path
    ]
    return {"message": {"text": f"{note.code}: {note.message}"}, "threadFlows": [{"locations": locations}]}


def _folder_uri(folder: str) -> str:
    """SARIF requires a base URI to end with a slash."""
    uri = Path(folder).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def render(report: Report) -> str:
    return json.dumps(utf8_safe_data(document(report)), indent=2, ensure_ascii=False) + "\n"
