"""Codemods: edits that scopeguard writes, each a module with one job and before/after examples.

- `remove_guarded_import`: remove import statements (or one name of a `from` statement) by line,
  and the `if`/`try` block around them when nothing else is left in it (libcst, comments kept).
- `remove_registry_entry`: remove string entries from module-level tuple/list/set/dict literals,
  given as an explicit list of (line, literal); `registry_entries` finds candidates.
- `add_suppression`: append `# scopeguard: ignore[CODES] reason` to a statement's first line.
- `packaging_edits`: text edits of pyproject.toml, setup.cfg and MANIFEST.in lines naming a scope.
- `diff`: unified diffs `git apply` accepts (modified and deleted files).
- `deletion_patch`: the deletion of a scope as one patch, built from a DeletionPlan and the facts.

Each edit module has EXAMPLES (`base.Example`: before, after, arguments) that tests/test_patch.py
runs. Nothing here runs the code it edits; every file is read through `safeio`.
"""
