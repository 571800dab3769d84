"""Executors: where the units of a run (one model for one seed each) run."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from harness.api.arguments import ArgsT
from harness.api.items import ConfiguredItem
from harness.api.models import UnitResources

if TYPE_CHECKING:
    from harness.grid import Grid


@dataclass(frozen=True)
class UnitJob:
    """One unit of work as an executor sees it: the model of one row (M0 or an intervention)
    for one seed. The unit itself is a pure function of the run's config and the content-hash
    cache, so any process that has the harness installed can run it (see :class:`Grid`)."""

    key: str
    """Unique in the run: ``row (seed N)``, as progress lines say it."""
    index: int
    """Its place in the plan, from 1."""
    depends_on: tuple[str, ...]
    """Keys of the units that must finish first (an intervention needs its seed's M0)."""
    resources: UnitResources


class Executor(ConfiguredItem[ArgsT], ABC):
    """Runs the units of a run: in this process, in worker processes, on a cluster.

    The core plans the units, tracks which are ready (their dependencies finished), retries
    failed ones and assembles ``results.json`` from their outputs in the plan's order, so the
    result never depends on where or in which order units ran. An executor only moves units to
    where they run: :meth:`execute` loops over :meth:`harness.grid.Grid.ready` units, runs each
    (:meth:`~harness.grid.Grid.run_here` in this process, or the picklable
    :attr:`~harness.grid.Grid.call` anywhere else) and hands every outcome back
    (:meth:`~harness.grid.Grid.finished`; a worker that died: :meth:`~harness.grid.Grid.crashed`).

    Chosen by ``executor:`` in the run config (``--executor``); the executor that declares
    :attr:`default` runs a config that names none. Register the class.

    Example::

        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        import harness
        from harness.api import Executor, Register


        class PoolExecutor(Executor):
            name = "pool"
            description = "units in a concurrent.futures process pool"

            def execute(self, grid):
                with ProcessPoolExecutor(self.jobs or 2) as pool:
                    running = {}
                    while not grid.done:
                        for job in grid.ready():  # dependencies finished, not yet started
                            running[pool.submit(grid.call, job.key)] = job
                            grid.started(job)
                        if not running:
                            break
                        finished, _ = wait(running, return_when=FIRST_COMPLETED)
                        for future in finished:
                            grid.finished(running.pop(future), future.result())


        @harness.hookimpl
        def register_executors(register: Register[type[Executor]]) -> None:
            register(PoolExecutor)
    """

    default: ClassVar[bool] = False
    """Whether this executor runs configs that name none (exactly one registered executor
    should declare it)."""

    def __init__(self, args: ArgsT, jobs: int | None = None) -> None:
        """Keep the validated arguments and the number of units to run at once."""
        super().__init__(args)
        self.jobs = jobs
        """Units at once (``--jobs``; ``None``: the executor's default)."""

    @property
    def in_process(self) -> bool:
        """Whether every unit runs in this process (one at a time): a run with the cache off
        then keeps each seed's M0 in memory instead of a scratch cache its workers share."""
        return False

    def check_available(self) -> None:
        """Raise :class:`harness.errors.UserError` when a library this executor needs is not
        installed (called while the run is planned, before anything is written)."""
        return None

    def plan_device(self, requested: str) -> str:
        """The device units run on, decided while planning (``auto``, ``cpu`` or ``cuda`` as
        configured): by default this machine's (``auto``: ``cuda`` when it has a GPU). An
        executor whose units run elsewhere may return ``requested`` and decide in
        :meth:`start`."""
        from harness.plan import resolve_device

        return resolve_device(requested)

    def start(self, device: str) -> str:
        """Connect to the engine, after planning and before anything is written (bad input, an
        unreachable cluster: a :class:`harness.errors.UserError`); return the device units run
        on (``device`` as :meth:`plan_device` returned it, resolved if still ``auto``)."""
        return device

    def check_units(self, units: Sequence[UnitJob]) -> None:
        """Check the units' resources against what the engine has (e.g. GPUs) before anything
        runs; raise :class:`harness.errors.UserError` naming the model argument to change."""
        return None

    @abstractmethod
    def execute(self, grid: Grid) -> None:
        """Run units until :attr:`harness.grid.Grid.done`, handing back every outcome."""

    def stop(self) -> None:
        """Release workers and connections (always called, also after an error)."""
        return None
