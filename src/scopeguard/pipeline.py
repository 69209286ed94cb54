"""The one-way flow: config -> files -> facts -> graph -> violations.

Heavy dependencies are imported inside the steps that need them (scan -> libcst, graph -> networkx)
so that commands which need neither (`scopeguard rule`) stay fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .config import validate_modules
from .discover import ModuleFile, discover, module_names
from .model import Config, FileFacts, Violation


@dataclass(frozen=True)
class Analysis:
    config: Config
    files: tuple[ModuleFile, ...]
    facts: tuple[FileFacts, ...]
    violations: tuple[Violation, ...]


def scan_all(config: Config, files: Sequence[ModuleFile]) -> tuple[FileFacts, ...]:
    from .scan import ToggleMatcher, scan_file

    matcher = ToggleMatcher(config.toggles)
    return tuple(
        scan_file(f.abspath, path=f.path, module=f.module, is_package=f.is_package, matcher=matcher, extra=f.extra)
        for f in files
    )


def analyse(config: Config, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> Analysis:
    from . import rules
    from .graph import ImportGraph

    files = discover(config)
    validate_modules(config, module_names(files))
    facts = scan_all(config, files)
    project = rules.Project(config, ImportGraph(facts))
    violations = rules.run(project, rules.selected(select, ignore))
    return Analysis(config, files, facts, tuple(violations))
