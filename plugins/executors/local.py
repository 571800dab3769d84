"""``local``: the units of a run on this machine, one at a time or ``--jobs N`` at once.

Without ``--jobs`` (or with ``--jobs 1``) every unit runs in this process, one after another,
with progress bars inside each unit: the harness's behaviour before executors existed, with no
dependency beyond the harness.

With ``--jobs N`` (N >= 2), N worker processes each run one unit at a time. Workers are
started with ``spawn`` (a fresh interpreter: no fork of a process that has loaded torch and
its thread pools), plan the run once from its config and share the content-hash cache. Each
worker gets its share of the CPU cores as torch threads (a model that declares
``cpu_threads``, such as ``bow``, keeps its own, so results do not depend on the executor) and,
when the model asks for GPUs, its own GPUs through ``CUDA_VISIBLE_DEVICES``. A worker that dies
(killed, out of memory) is replaced and its unit retried like one that raised.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

import harness
from harness.api import Executor, NoArgs, Register, UnitJob
from harness.errors import UserError
from harness.unit_call import UnitCall, WorkerOptions

if TYPE_CHECKING:
    from multiprocessing.context import SpawnContext, SpawnProcess

    from harness.grid import Grid


def available_cpus() -> int:
    """CPU cores this process may use (its affinity mask, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def gpu_count() -> int:
    """CUDA devices visible to this process (0 without torch's CUDA)."""
    import torch

    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def gpu_slots(jobs: int, gpus_per_unit: float, gpus: int) -> list[list[int]]:
    """The GPUs of each of ``jobs`` workers when a unit needs ``gpus_per_unit`` of ``gpus``
    devices: fractions share a device (``0.5``: two workers per GPU), whole numbers take that
    many each. Raises :class:`UserError` when they do not fit."""
    if gpus_per_unit <= 0:
        return [[] for _ in range(jobs)]
    if gpus == 0:
        raise UserError(
            f"the model asks for {gpus_per_unit:g} GPU(s) per unit but this machine has none",
            field="model_args",
            fix="run with --device cpu, or on a machine (or Ray cluster) with GPUs",
        )
    if gpus_per_unit <= 1:
        per_gpu = max(1, math.floor(1 / gpus_per_unit + 1e-9))
        capacity = gpus * per_gpu
        slots = [[i // per_gpu] for i in range(min(jobs, capacity))]
    else:
        whole = int(gpus_per_unit)
        capacity = gpus // whole
        slots = [list(range(i * whole, (i + 1) * whole)) for i in range(min(jobs, capacity))]
    if jobs > capacity:
        raise UserError(
            f"{jobs} unit(s) at once need {jobs * gpus_per_unit:g} GPU(s) "
            f"({gpus_per_unit:g} each) but this machine has {gpus}",
            field="--jobs" if jobs > 1 else "model_args",
            fix=f"use at most --jobs {capacity}" if capacity else "ask for fewer GPUs per unit",
        )
    return slots


def exit_reason(code: int | None) -> str:
    """A worker's exit code in words (``killed by SIGKILL``, ``exit status 1``)."""
    if code is None:
        return "stopped"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def serve(
    connection: Connection, call: UnitCall, options: WorkerOptions, env: dict[str, str]
) -> None:
    """A worker process: run the units whose keys arrive on ``connection`` until ``None``."""
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    while True:
        try:
            key = connection.recv()
        except EOFError:
            break
        if key is None:
            break
        connection.send(call(key, options))
    # Everything a unit writes is in the cache (renamed into place) or already sent: skip the
    # interpreter's teardown of torch and friends (about a second a worker, which the run's
    # driver would wait for before it writes the results).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class _Worker:
    """One worker process and the unit it runs."""

    def __init__(
        self,
        context: SpawnContext,
        index: int,
        call: UnitCall,
        options: WorkerOptions,
        env: dict[str, str],
    ) -> None:
        self.index = index
        parent, child = context.Pipe()
        self.process: SpawnProcess = context.Process(
            target=serve,
            args=(child, call, options, env),
            name=f"harness-worker-{index}",
            daemon=False,
        )
        self.process.start()
        child.close()
        self.connection = parent
        self.job: UnitJob | None = None

    @property
    def name(self) -> str:
        return f"worker {self.index}"

    def ask_to_stop(self) -> None:
        """Tell the worker to finish after its unit (if any); do not wait."""
        with contextlib.suppress(OSError, ValueError):
            self.connection.send(None)

    def stop(self) -> None:
        """Ask the worker to finish; kill it if it does not within a few seconds."""
        self.ask_to_stop()
        self.process.join(timeout=5 if self.job is None else 0.1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.connection.close()


class LocalExecutor(Executor[NoArgs]):
    """Units on this machine: in this process, or in ``--jobs N`` worker processes."""

    name = "local"
    description = "this machine: units one at a time in this process, or --jobs N processes"
    Args = NoArgs
    default = True

    def __init__(self, args: NoArgs, jobs: int | None = None) -> None:
        super().__init__(args, jobs)
        self._workers: list[_Worker] = []
        self._slots: list[list[int]] = []

    @property
    def in_process(self) -> bool:
        """One unit at a time in this process (no ``--jobs``, or ``--jobs 1``)."""
        return (self.jobs or 1) == 1

    def check_units(self, units: Sequence[UnitJob]) -> None:
        """GPUs the units ask for must exist here, ``--jobs`` of them at once."""
        gpus = max((unit.resources.gpus for unit in units), default=0.0)
        if gpus > 0:
            self._slots = gpu_slots(self.jobs or 1, gpus, gpu_count())

    def execute(self, grid: Grid) -> None:
        """Run every unit (see the module docstring)."""
        if self.in_process:
            while not grid.done:
                ready = grid.ready()
                if not ready:
                    break
                grid.run_here(ready[0])
            return
        self._run_workers(grid)

    def _start_worker(self, context: SpawnContext, index: int, grid: Grid) -> _Worker:
        jobs = self.jobs or 1
        threads = grid.model_threads or max(1, available_cpus() // jobs)
        options = WorkerOptions(
            progress="lines" if grid.progress.lines else "off",
            threads=threads,
            where=f"worker {index}",
        )
        env: dict[str, Any] = {}
        if self._slots:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, self._slots[index - 1]))
        return _Worker(context, index, grid.call, options, env)

    def _run_workers(self, grid: Grid) -> None:
        context = multiprocessing.get_context("spawn")
        pending = sum(1 for state in grid.states.values() if state.status == "pending")
        jobs = min(self.jobs or 1, max(1, pending))
        self._workers = [self._start_worker(context, i + 1, grid) for i in range(jobs)]
        while not grid.done:
            for worker in self._workers:
                if worker.job is not None:
                    continue
                ready = grid.ready()
                if not ready:
                    break
                worker.job = ready[0]
                worker.connection.send(worker.job.key)
                grid.started(worker.job, worker.name)
            busy = [w for w in self._workers if w.job is not None]
            if not busy:
                break  # nothing running and nothing ready: the grid is finished or blocked
            signalled = wait([w.connection for w in busy] + [w.process.sentinel for w in busy])
            for worker in busy:
                self._collect(context, worker, signalled, grid)

    def _collect(
        self, context: SpawnContext, worker: _Worker, signalled: list[Any], grid: Grid
    ) -> None:
        job = worker.job
        assert job is not None
        if worker.connection in signalled:
            try:
                outcome = worker.connection.recv()
            except (EOFError, OSError):
                outcome = None
            if outcome is not None:
                worker.job = None
                grid.finished(job, outcome)
                return
        elif worker.process.sentinel not in signalled:
            return
        worker.process.join(timeout=5)
        reason = exit_reason(worker.process.exitcode)
        worker.job = None
        worker.connection.close()
        grid.crashed(job, f"{worker.name} died ({reason})")
        replacement = self._start_worker(context, worker.index, grid)
        self._workers[self._workers.index(worker)] = replacement

    def stop(self) -> None:
        """Stop every worker process (all asked at once, then each waited for)."""
        for worker in self._workers:
            worker.ask_to_stop()
        for worker in self._workers:
            worker.stop()
        self._workers = []


@harness.hookimpl
def register_executors(register: Register[type[Executor]]) -> None:
    """Register the ``local`` executor."""
    register(LocalExecutor)
