"""Running a unit in another process or on another machine.

:class:`UnitCall` is small and picklable (the resolved run config as JSON, the run id, the
device and the cache folder): an executor sends it to a worker process or a Ray task, which
calls ``call(key, options)``. The worker plans the run from the config itself (once per
process: :func:`worker_for` keeps the last plans it built), checks that it sees the same data
as the process that planned the run (the run id hashes every local file's content), runs the
unit through the shared content-hash cache and returns the :class:`~harness.units.UnitOutcome`
as JSON-able data. A user error inside the unit comes back as data too, so the run prints the
same one-line error it prints when the unit runs in its own process.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from harness.units import UnitWorker

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""Environment variables that size native thread pools (set in a worker before torch loads)."""


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs its units: progress style and CPU threads."""

    progress: Literal["lines", "off"] = "off"
    """``lines``: plain progress lines on the worker's stderr, each prefixed with the unit."""
    threads: int | None = None
    """Torch intra-op threads (``None``: torch's default)."""
    where: str = ""
    """How progress lines and errors name this worker (e.g. ``worker 2``)."""


@dataclass(frozen=True)
class UnitCall:
    """Runs one unit of a planned run in any process (see the module docstring)."""

    config_json: str
    """The run config as planned (local paths absolute), as JSON."""
    run_id: str
    """The run id the planning process computed (the worker must compute the same)."""
    device: str
    """The device units run on, as the executor resolved it."""
    cache_dir: str
    """The content-hash cache the units share (a scratch folder when the run's cache is off)."""
    plugin_modules: tuple[tuple[str, str, str], ...] = ()
    """Plugin modules the planning process registered itself (see
    :func:`harness.plugins.in_process_plugin_modules`): a worker registers them too."""

    def __call__(self, key: str, options: WorkerOptions | None = None) -> dict[str, Any]:
        """Run the unit named ``key`` and return its outcome as JSON-able data."""
        from harness.units import UnitFailure, UnitOutcome

        options = options or WorkerOptions()
        if options.threads is not None:
            for name in THREAD_VARIABLES:
                os.environ[name] = str(options.threads)
        try:
            worker = worker_for(self, options.progress)
            units = worker.plan.units()
            unit = {u.name: u for u in units}[key]
        except Exception as exc:
            failure = UnitFailure.from_exception(exc)
            return UnitOutcome(key=key, failure=failure, where=options.where).model_dump(
                mode="json"
            )
        from harness.runner import torch_threads

        worker.progress.prefix = f"[{unit.index}/{len(units)} {key}] "
        with torch_threads(options.threads):
            outcome = worker.outcome(unit, options.where)
        return outcome.model_dump(mode="json")


@lru_cache(maxsize=2)
def worker_for(call: UnitCall, progress_style: str) -> UnitWorker:
    """The worker for ``call`` in this process: the run planned from its config once (a
    worker process that runs several units of a run plans it once). Planning warnings were
    printed by the process that planned the run first, so here they are swallowed."""
    from harness.cache import Cache
    from harness.config import RunConfig
    from harness.errors import UserError
    from harness.plan import plan_run
    from harness.plugins import register_plugin_modules
    from harness.progress import Progress
    from harness.units import UnitWorker

    register_plugin_modules(call.plugin_modules)
    config = RunConfig.model_validate_json(call.config_json)
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        plan = plan_run(config, check_output=False, device=call.device)
    if plan.run_id != call.run_id:
        raise UserError(
            f"this worker sees other data than the process that planned the run (run id "
            f"{plan.run_id}, expected {call.run_id})",
            field="executor",
            fix="give every worker the same data and spec files (a shared file system or "
            "identical copies at the same paths)",
        )
    progress = Progress(mode=progress_style, enabled=progress_style != "off")
    cache = Cache(root=Path(call.cache_dir), enabled=True, progress=progress)
    return UnitWorker(plan, cache, progress)
