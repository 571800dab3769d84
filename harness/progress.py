"""Progress of a run on stderr: rich bars on a terminal, plain throttled lines otherwise.

When stderr is a terminal, training and prediction loops show rich progress bars. When it is not
(output redirected to a file, a batch job, CI), bars would print nothing useful, so the run prints
plain lines instead: each unit of work started and finished (with its time), and for long loops a
line at most every ``HARNESS_PROGRESS_INTERVAL`` seconds (default 30) with the step count, the
elapsed time and the ETA. ``HARNESS_PROGRESS`` picks the style: ``auto`` (default), ``bars``,
``lines`` or ``off``; ``harness run --quiet`` turns progress off.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from harness.display import printable

Style = Literal["bars", "lines", "off"]
MODE_ENV = "HARNESS_PROGRESS"
INTERVAL_ENV = "HARNESS_PROGRESS_INTERVAL"
DEFAULT_INTERVAL_S = 30.0
MODES = ("auto", "bars", "lines", "off")


def clock(seconds: float) -> str:
    """``seconds`` as ``m:ss`` or ``h:mm:ss``."""
    whole = max(0, int(round(seconds)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_style(console: Console, enabled: bool = True, mode: str | None = None) -> Style:
    """The style to use: ``off`` when disabled, else ``mode`` (default: ``$HARNESS_PROGRESS``,
    else ``auto``); ``auto`` is ``bars`` on a terminal and ``lines`` otherwise. An unknown value
    counts as ``auto``."""
    if not enabled:
        return "off"
    chosen = (mode or os.environ.get(MODE_ENV) or "auto").strip().lower()
    if chosen == "off":
        return "off"
    if chosen == "bars":
        return "bars"
    if chosen == "lines":
        return "lines"
    return "bars" if console.is_terminal else "lines"


def interval_from_env() -> float:
    """Seconds between two step lines of one loop (``$HARNESS_PROGRESS_INTERVAL``, default 30)."""
    raw = os.environ.get(INTERVAL_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_INTERVAL_S
    return value if value >= 0 else DEFAULT_INTERVAL_S


class ProgressTask:
    """A handle on one loop: call :meth:`advance` as work completes."""

    def __init__(self, progress: RichProgress | None, task_id: int | None) -> None:
        self._progress = progress
        self._task_id = task_id

    def advance(self, amount: float = 1) -> None:
        """Mark ``amount`` more units as done."""
        if self._progress is not None and self._task_id is not None:
            self._progress.advance(self._task_id, amount)  # type: ignore[arg-type]

    def describe(self, description: str) -> None:
        """Replace the bar's description (e.g. counts that change while it runs)."""
        if self._progress is not None and self._task_id is not None:
            self._progress.update(
                self._task_id,  # type: ignore[arg-type]
                description=escape(printable(description)),
            )


class LineTask(ProgressTask):
    """A loop reported as plain lines: at most one line per ``interval`` seconds with the count,
    the elapsed time and the ETA, and a last line when a loop that printed lines finishes."""

    def __init__(
        self,
        emit: Callable[[str], None],
        description: str,
        total: float | None,
        interval: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(None, None)
        self._emit = emit
        self._description = description
        self._total = total
        self._interval = interval
        self._now = now
        self._started = now()
        self._last = self._started
        self._printed = False
        self.done = 0.0

    def _count(self) -> str:
        done = f"{self.done:g}"
        if not self._total:
            return done
        share = 100.0 * self.done / self._total
        return f"{done}/{self._total:g} ({share:.0f}%)"

    def advance(self, amount: float = 1) -> None:
        """Count ``amount`` more units; print a line when ``interval`` seconds have passed."""
        self.done += amount
        now = self._now()
        if now - self._last < self._interval:
            return
        self._last = now
        elapsed = now - self._started
        eta = ""
        if self._total and 0 < self.done < self._total:
            eta = f", ETA {clock(elapsed * (self._total - self.done) / self.done)}"
        self._emit(f"{self._description}: {self._count()}, {clock(elapsed)} elapsed{eta}")
        self._printed = True

    def finish(self) -> None:
        """Print the closing line of a loop that printed step lines (short loops stay silent)."""
        if self._printed:
            elapsed = self._now() - self._started
            self._emit(f"{self._description}: {self._count()} in {clock(elapsed)}")


class Progress:
    """Progress reporting for a run: bars on a terminal, plain lines when stderr is not one
    (see the module docstring), nothing when ``enabled`` is false (``--quiet``)."""

    def __init__(
        self,
        console: Console | None = None,
        enabled: bool = True,
        mode: str | None = None,
        interval: float | None = None,
        prefix: str = "",
    ) -> None:
        self.console = console or Console(stderr=True)
        self.prefix = prefix
        """Put before every plain line (a worker process names the unit it runs)."""
        self.style: Style = progress_style(self.console, enabled, mode)
        self.enabled = self.style != "off"
        self.interval = interval_from_env() if interval is None else interval
        self._rich: RichProgress | None = None

    @property
    def lines(self) -> bool:
        """Whether progress is printed as plain lines."""
        return self.style == "lines"

    def _line(self, message: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        try:
            plain = Text.from_markup(message).plain
        except MarkupError:
            plain = message
        self.console.print(
            f"{stamp} {printable(self.prefix + plain)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    @contextmanager
    def live(self) -> Iterator[Progress]:
        """Show the bars while the block runs (nothing to set up for lines)."""
        if self.style != "bars":
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
        """Open a bar (or a throttled line reporter) for ``total`` units of work."""
        if self.style == "lines":
            handle = LineTask(self._line, escape(description), total, self.interval)
            yield handle
            handle.finish()
            return
        if self._rich is None:
            yield ProgressTask(None, None)
            return
        task_id = self._rich.add_task(escape(printable(description)), total=total)
        try:
            yield ProgressTask(self._rich, task_id)  # type: ignore[arg-type]
        finally:
            self._rich.remove_task(task_id)

    @contextmanager
    def unit(self, name: str, index: int, total: int) -> Iterator[None]:
        """One unit of a run (a model for one seed): as lines, ``[i/n] name started`` and
        ``[i/n] name finished in m:ss`` (or ``stopped after`` when it raised)."""
        if self.style != "lines":
            yield
            return
        where = f"[{index}/{total}] {name}"
        self._line(escape(f"{where} started"))
        started = time.monotonic()
        try:
            yield
        except BaseException:
            self._line(escape(f"{where} stopped after {clock(time.monotonic() - started)}"))
            raise
        self._line(escape(f"{where} finished in {clock(time.monotonic() - started)}"))

    def log(self, message: str, style: str | None = None) -> None:
        """Print a status line to stderr when progress is enabled. ``message`` is plain text,
        never read as markup (it names user labels and files); ``style`` (e.g. ``"dim"``)
        styles the whole line on a terminal."""
        if self.style == "lines":
            self._line(escape(message))
        elif self.enabled:
            self.console.print(
                Text(printable(message), style=style or ""), highlight=False, soft_wrap=True
            )


def silent() -> Progress:
    """Return a progress object that prints nothing."""
    return Progress(Console(stderr=True, quiet=True), enabled=False)


__all__ = ["MODES", "LineTask", "Progress", "ProgressTask", "clock", "progress_style", "silent"]
