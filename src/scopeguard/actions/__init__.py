"""What scopeguard does with a result besides reporting it: verify a deletion by importing a copy
(`verify`), audit a scope (`audit`), propose a configuration (`suggest`, for `init`) and edit code
(`codemods`: suppressions, the deletion patch)."""
