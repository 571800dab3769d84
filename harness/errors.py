"""User-facing errors: one line, exit status 2, never a traceback (unless ``--debug``)."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in what the user supplied (a file, a flag, a name).

    Rendered as ``file[:line]: field: problem; fix`` by the CLI, which exits with status 2.
    """

    exit_code = 2

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the message as the single line the CLI prints."""
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.field:
            parts.append(self.field)
        message = self.problem
        if self.fix:
            message = f"{message}; {self.fix}"
        parts.append(message)
        return ": ".join(parts).replace("\n", " ")


class PluginError(UserError):
    """A plugin failed to load or raised inside a hook."""


class ExpectedOutcomeFailed(Exception):
    """Raised by ``harness report --check`` when the expected-outcome check fails (exit 1)."""
