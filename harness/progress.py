"""Rich progress bars shared by training and prediction loops."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress


class ProgressTask:
    """A handle on one bar: call :meth:`advance` as work completes."""

    def __init__(self, progress: RichProgress | None, task_id: int | None) -> None:
        self._progress = progress
        self._task_id = task_id

    def advance(self, amount: float = 1) -> None:
        """Mark ``amount`` more units as done."""
        if self._progress is not None and self._task_id is not None:
            self._progress.advance(self._task_id, amount)  # type: ignore[arg-type]


class Progress:
    """Progress reporting for a run; silent when ``enabled`` is false (tests, ``--quiet``)."""

    def __init__(self, console: Console | None = None, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self._rich: RichProgress | None = None

    @contextmanager
    def live(self) -> Iterator[Progress]:
        """Show the bars while the block runs."""
        if not self.enabled:
            yield self
            return
        self._rich = RichProgress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        with self._rich:
            yield self
        self._rich = None

    @contextmanager
    def task(self, description: str, total: float | None) -> Iterator[ProgressTask]:
        """Open a bar for ``total`` units of work; it is removed when the block ends."""
        if self._rich is None:
            yield ProgressTask(None, None)
            return
        task_id = self._rich.add_task(description, total=total)
        try:
            yield ProgressTask(self._rich, task_id)  # type: ignore[arg-type]
        finally:
            self._rich.remove_task(task_id)

    def log(self, message: str) -> None:
        """Print a status line (to stderr) when progress is enabled."""
        if self.enabled:
            self.console.print(message)


def silent() -> Progress:
    """Return a progress object that prints nothing."""
    return Progress(Console(stderr=True, quiet=True), enabled=False)
