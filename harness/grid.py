"""The units of a run while an executor runs them: which are ready, running, done or failed.

A :class:`Grid` is what :meth:`harness.api.Executor.execute` receives. It knows every unit's
dependencies (an intervention waits for its seed's M0), hands out the units that are ready,
takes back each outcome, retries a unit that raised or whose worker died (up to
``max_retries`` times), marks the units that depend on one that failed for good as blocked,
and stops handing out work on a user error (bad input: the same one-line error everywhere).
It also shows progress: units done / running / failed, as a bar or as plain lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.api import UnitJob
from harness.errors import UserError
from harness.progress import Progress, ProgressTask, clock
from harness.unit_call import UnitCall
from harness.units import UnitFailure, UnitOutcome, UnitOutput

Status = Literal["pending", "running", "done", "failed"]


@dataclass
class UnitState:
    """One unit's state in the grid."""

    job: UnitJob
    status: Status = "pending"
    attempts: int = 0
    where: str = ""
    started: float = 0.0
    failures: list[UnitFailure] = field(default_factory=list)
    blocked_by: str | None = None


class Grid:
    """The units of one run as an executor works through them (see the module docstring)."""

    def __init__(
        self,
        jobs: Sequence[UnitJob],
        call: UnitCall,
        run_here: Callable[[UnitJob], dict[str, Any]],
        on_output: Callable[[UnitJob, UnitOutput], None],
        progress: Progress,
        max_retries: int = 1,
        finished: Sequence[str] = (),
        model_threads: int | None = None,
    ) -> None:
        self.call = call
        """Runs one unit anywhere the harness is installed: ``call(key, options)`` returns the
        outcome as JSON-able data for :meth:`finished` (picklable: send it to workers)."""
        self.model_threads = model_threads
        """Torch threads the model declares for CPU (``Model.cpu_threads``): a worker uses
        them instead of its share of the cores, so results do not depend on the executor."""
        self.max_retries = max_retries
        self.progress = progress
        self._run_here = run_here
        self._on_output = on_output
        self.states = {job.key: UnitState(job) for job in jobs}
        self.user_error: UserError | None = None
        self._board = _Board(self, progress)
        for key in finished:
            self.states[key].status = "done"
            self._board.reused += 1

    # -- what executors call ------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Whether there is nothing left to run (every unit finished or failed for good, or a
        user error stopped the run)."""
        if self.user_error is not None:
            return True
        return all(s.status in ("done", "failed") for s in self.states.values())

    @property
    def running(self) -> int:
        """Units running now."""
        return sum(1 for s in self.states.values() if s.status == "running")

    @property
    def jobs(self) -> list[UnitJob]:
        """Every unit, in the plan's order."""
        return [s.job for s in self.states.values()]

    def ready(self) -> list[UnitJob]:
        """Units that can start now (dependencies finished, not running or done), in the
        plan's order; none after a user error."""
        if self.user_error is not None:
            return []
        self._block_dependents()
        return [
            state.job
            for state in self.states.values()
            if state.status == "pending"
            and all(self.states[d].status == "done" for d in state.job.depends_on)
        ]

    def started(self, job: UnitJob, where: str = "") -> None:
        """Record that ``job`` started (``where``: e.g. ``worker 2``, a node)."""
        state = self.states[job.key]
        state.status, state.where, state.started = "running", where, time.monotonic()
        state.attempts += 1
        self._board.started(state)

    def finished(self, job: UnitJob, outcome: dict[str, Any] | UnitOutcome) -> None:
        """Record the outcome :attr:`call` (or :meth:`run_here`) returned for ``job``."""
        result = (
            outcome if isinstance(outcome, UnitOutcome) else UnitOutcome.model_validate(outcome)
        )
        state = self.states[job.key]
        if result.output is not None:
            self._on_output(job, result.output)
            state.status = "done"
            self._board.finished(state)
            return
        failure = result.failure or UnitFailure(kind="exception", message="no output")
        self._failed(state, failure)

    def crashed(self, job: UnitJob, message: str) -> None:
        """Record that the worker running ``job`` died (killed, out of memory)."""
        self._failed(self.states[job.key], UnitFailure(kind="crash", message=message))

    def run_here(self, job: UnitJob) -> None:
        """Run ``job`` in this process (with this run's progress bars) and record it."""
        self.started(job, "")
        outcome = self._run_here(job)
        self.finished(job, outcome)

    # -- results -------------------------------------------------------------------------------

    @property
    def failed(self) -> list[UnitState]:
        """Units that failed for good or were blocked by one that did, in the plan's order."""
        return [s for s in self.states.values() if s.status == "failed"]

    @contextmanager
    def live(self) -> Iterator[None]:
        """Show units done / running / failed while the block runs."""
        with self._board.live():
            yield

    # -- internals -----------------------------------------------------------------------------

    def _failed(self, state: UnitState, failure: UnitFailure) -> None:
        state.failures.append(failure)
        if failure.kind == "user":
            state.status = "failed"
            if self.user_error is None:
                self.user_error = failure.user_error()
            self._board.failed(state, retrying=False)
            return
        retrying = state.attempts <= self.max_retries
        state.status = "pending" if retrying else "failed"
        self._board.failed(state, retrying=retrying)

    def _block_dependents(self) -> None:
        changed = True
        while changed:
            changed = False
            for state in self.states.values():
                if state.status != "pending":
                    continue
                for dep in state.job.depends_on:
                    if self.states[dep].status == "failed":
                        state.status, state.blocked_by = "failed", dep
                        self._board.blocked(state)
                        changed = True
                        break


class _Board:
    """Progress of the grid: a bar with units done / running / failed, or plain lines."""

    def __init__(self, grid: Grid, progress: Progress) -> None:
        self.grid = grid
        self.progress = progress
        self.reused = 0
        self._task: ProgressTask | None = None

    def counts(self) -> str:
        states = self.grid.states.values()
        done = sum(1 for s in states if s.status == "done")
        running = sum(1 for s in states if s.status == "running")
        failed = sum(1 for s in states if s.status == "failed")
        text = f"{done} done, {running} running, {failed} failed of {len(self.grid.states)}"
        return text + (f" ({self.reused} from the interrupted run)" if self.reused else "")

    @contextmanager
    def live(self) -> Iterator[None]:
        if self.progress.style != "bars":
            yield
            return
        with self.progress.task(self._description(), len(self.grid.states)) as task:
            self._task = task
            task.advance(self.reused)
            try:
                yield
            finally:
                self._task = None

    def _description(self) -> str:
        return f"units: {self.counts()}"

    def _where(self, state: UnitState) -> str:
        return f" on {state.where}" if state.where else ""

    def _head(self, state: UnitState) -> str:
        return f"[{state.job.index}/{len(self.grid.states)}] {state.job.key}"

    def _refresh(self, advance: int = 0) -> None:
        if self._task is not None:
            self._task.describe(self._description())
            if advance:
                self._task.advance(advance)

    def started(self, state: UnitState) -> None:
        again = f" (attempt {state.attempts})" if state.attempts > 1 else ""
        if self.progress.lines:
            self.progress.log(f"{self._head(state)} started{self._where(state)}{again}")
        self._refresh()

    def finished(self, state: UnitState) -> None:
        seconds = time.monotonic() - state.started
        if self.progress.lines:
            self.progress.log(
                f"{self._head(state)} finished in {clock(seconds)}{self._where(state)}; "
                f"units: {self.counts()}"
            )
        self._refresh(advance=1)

    def failed(self, state: UnitState, retrying: bool) -> None:
        failure = state.failures[-1]
        what = "will be retried" if retrying else "failed"
        if failure.kind != "user":
            self.progress.log(
                f"{self._head(state)} {what}{self._where(state)}: {failure.message}",
                style="yellow" if retrying else "red",
            )
        self._refresh(advance=0 if retrying else 1)

    def blocked(self, state: UnitState) -> None:
        self.progress.log(f"{self._head(state)} not run: {state.blocked_by} failed", style="red")
        self._refresh(advance=1)
