"""ConfigError and ConfigErrors: a mistake in the configuration, located by file, line and key."""

from __future__ import annotations

from collections.abc import Sequence


class ConfigError(Exception):
    """A mistake in the configuration, located as precisely as the file allows."""

    def __init__(self, path: str, line: int, key: str, problem: str, hint: str = "") -> None:
        # Passing every field to Exception keeps the error picklable (it may cross processes).
        super().__init__(path, line, key, problem, hint)
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.key}: {self.problem}"
        return f"{text}; {self.hint}" if self.hint else text


class ConfigErrors(ConfigError):
    """Several mistakes in the configuration, all reported at once (one line each)."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        first = errors[0]
        super().__init__(first.path, first.line, first.key, first.problem, first.hint)
        self.errors = tuple(errors)

    def __reduce__(self):
        return (ConfigErrors, (self.errors,))

    def __str__(self) -> str:
        return "\n".join(ConfigError.__str__(e) for e in self.errors)
