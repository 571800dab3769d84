"""User-facing errors: one line, exit status 2, never a traceback (unless ``--debug``)."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

MAX_PART_CHARS = 2_000
"""The longest file name, field, problem or fix an error line shows (user values can be huge)."""


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
        """Return the message as the single line the CLI prints: control characters escaped
        (see :func:`harness.display.printable`), each part capped in length."""
        from harness.display import printable, shortened

        parts: list[str] = []
        if self.file:
            file = shortened(self.file, MAX_PART_CHARS)
            parts.append(f"{file}:{self.line}" if self.line else file)
        if self.field:
            parts.append(shortened(self.field, MAX_PART_CHARS))
        message = shortened(self.problem, MAX_PART_CHARS)
        if self.fix:
            message = f"{message}; {shortened(self.fix, MAX_PART_CHARS)}"
        parts.append(message)
        return printable(": ".join(parts).replace("\n", " "))


WRITE_FIXES = {
    errno.ENOSPC: "free disk space or choose a folder on another disk",
    errno.EDQUOT: "free space within your disk quota or choose another folder",
    errno.EFBIG: "the file-size limit is too low for it: raise it (ulimit -f) or choose another "
    "folder",
    errno.EROFS: "the file system is read-only: choose another --output-dir / --cache-dir",
    errno.EACCES: "make the folder writable or choose another --output-dir / --cache-dir",
    errno.EPERM: "make the folder writable or choose another --output-dir / --cache-dir",
}
"""The fix shown for a failed write, by ``errno``."""


class OutputError(UserError):
    """A file or folder the harness writes could not be written (disk full, file-size limit,
    permissions, read-only file system). One line ``cannot write FILE: reason``, exit status 2;
    the writer has removed its temporary file, so nothing is half-written."""

    def __init__(self, path: str | Path, exc: BaseException) -> None:
        code = getattr(exc, "errno", None)
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        if code is None and "written" in reason:  # numpy's short-write message
            reason += " (a short write: the disk is full or a file-size limit was hit)"
        super().__init__(
            f"cannot write {path}: {reason}",
            fix=WRITE_FIXES.get(
                code or 0,
                "check free disk space, the file-size limit "
                "(ulimit -f) and the folder's permissions",
            ),
        )
        self.path = str(path)


def os_error_from(exc: BaseException) -> OSError:
    """An ``OSError`` for a library's I/O failure: with its ``errno`` when the message carries
    one the way Rust libraries (safetensors, tokenizers) write it, ``(os error 27)``."""
    match = re.search(r"os error (\d+)", str(exc))
    if match:
        code = int(match.group(1))
        return OSError(code, os.strerror(code))
    return OSError(str(exc))


class PluginError(UserError):
    """A plugin failed to load or raised inside a hook."""


class RunIncomplete(Exception):
    """Some units of a run did not finish (after their retries) while the others did: the CLI
    prints the summary and one line per unit, and exits with status 1; the finished units are
    kept for ``harness run --resume``."""

    exit_code = 1

    def __init__(self, summary: str, details: list[str] | None = None, fix: str = "") -> None:
        self.summary = summary
        self.details = list(details or [])
        self.fix = fix
        super().__init__(summary)

    def lines(self) -> list[str]:
        """The lines the CLI prints."""
        from harness.display import printable

        head = f"{self.summary}; {self.fix}" if self.fix else self.summary
        return [printable(head), *(f"  {printable(line)}" for line in self.details)]


class ExpectedOutcomeFailed(Exception):
    """Raised by ``harness report --check`` when the expected-outcome check fails (exit 1)."""
