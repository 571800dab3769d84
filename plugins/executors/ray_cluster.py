"""``ray``: every unit of a run a Ray task, on this machine or on a Ray cluster.

Needs the ``ray`` extra (``pip install 'spec-harness[ray]'``). Without ``address`` a Ray
instance is started here (``num_cpus``: ``--jobs``, else every core) and shut down after the
run; a Ray instance this process already started (``ray.init`` in a notebook or a test) is
used as it is. ``address: auto`` joins the cluster of ``ray start`` on this machine,
``ray://HOST:10001`` a remote one through Ray Client; a cluster that does not answer within
``connect_timeout_s`` is a one-line error before anything is written.

Each unit is a task with the resources its model declares (:meth:`harness.api.Model.unit_resources`:
CPUs, GPUs, fractions allowed, memory); a unit that asks for more GPUs or CPUs than any node has
is refused before anything runs. At most as many units are handed to Ray as its nodes can run
at once (and at most ``--jobs``), so the progress line's "running" means running. Every worker
plans the run from its config once (the data and spec files must be at the same paths on
every node, e.g. a shared file system) and shares the content-hash cache, which must therefore
be on a file system every node reaches (see ``docs/scaling.md``). A task that raised or whose
worker died is retried ``max_retries`` times by the run (not by Ray, so that a user error is
never retried and every attempt shows in the progress lines).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field

import harness
from harness.api import Executor, Register, StrictModel, UnitJob
from harness.errors import UserError
from harness.unit_call import UnitCall, WorkerOptions

if TYPE_CHECKING:
    from harness.grid import Grid

INSTALL_FIX = "pip install 'spec-harness[ray]' (or pip install ray), or use --executor local"


class RayArgs(StrictModel):
    """Arguments of the ``ray`` executor (``executor:`` keys, or ``--executor-args``)."""

    address: str | None = Field(
        default=None,
        description="auto (the cluster of `ray start` here), ray://HOST:10001 (Ray Client) or "
        "HOST:6379; default: start a Ray instance on this machine",
    )
    num_cpus: int | None = Field(
        default=None, ge=1, description="CPUs of a Ray instance started here (default: --jobs)"
    )
    num_gpus: int | None = Field(
        default=None, ge=0, description="GPUs of a Ray instance started here (default: all)"
    )
    connect_timeout_s: float = Field(
        default=60.0, gt=0, le=3600, description="seconds to wait for a cluster to answer"
    )
    runtime_env: dict[str, Any] | None = Field(
        default=None,
        description="Ray runtime environment for the workers (e.g. {env_vars: {...}})",
    )


def run_unit(call: UnitCall, key: str, options: WorkerOptions) -> dict[str, Any]:
    """The Ray task: run one unit in the worker (see :class:`harness.unit_call.UnitCall`)."""
    import socket

    where = options.where or f"ray node {socket.gethostname()}"
    return call(key, WorkerOptions(options.progress, options.threads, where))


def quiet_native_stderr() -> int | None:
    """Point file descriptor 2 at ``/dev/null`` (Ray's C++ client logs every retry of an
    address there) and return a duplicate of where it pointed, for
    :func:`restore_native_stderr`; ``None`` when there is no descriptor 2 to quiet."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return None
    os.dup2(null, 2)
    os.close(null)
    return saved


def restore_native_stderr(saved: int | None, abandoned: bool) -> None:
    """Undo :func:`quiet_native_stderr`. ``abandoned``: a connection attempt still runs in a
    background thread and would keep logging, so descriptor 2 stays quiet and Python's
    ``sys.stderr``, when it wrote to descriptor 2, writes to the saved descriptor instead."""
    if saved is None:
        return
    sys.stderr.flush()
    if not abandoned:
        os.dup2(saved, 2)
        os.close(saved)
        return
    try:
        on_fd_2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # captured (a test runner): nothing to move
        on_fd_2 = False
    if on_fd_2:
        sys.stderr = os.fdopen(saved, "w", buffering=1, encoding=sys.stderr.encoding)
    else:
        os.close(saved)


def fits(resources: dict[str, float], cpus: float, gpus: float) -> int:
    """How many units of ``cpus`` / ``gpus`` fit into ``resources`` (Ray's resource dict)."""
    counts = []
    if cpus > 0:
        counts.append(math.floor(resources.get("CPU", 0.0) / cpus + 1e-9))
    if gpus > 0:
        counts.append(math.floor(resources.get("GPU", 0.0) / gpus + 1e-9))
    return min(counts) if counts else 1


class RayExecutor(Executor[RayArgs]):
    """Every unit a Ray task (see the module docstring)."""

    name = "ray"
    description = "a Ray task per unit, here or on a cluster (address=auto|ray://...)"
    Args = RayArgs

    def __init__(self, args: RayArgs, jobs: int | None = None) -> None:
        super().__init__(args, jobs)
        self._started_here = False

    def check_available(self) -> None:
        """``ray`` must be installed."""
        if importlib.util.find_spec("ray") is None:
            raise UserError(
                "executor ray needs the ray package, which is not installed",
                field="executor.name",
                fix=INSTALL_FIX,
            )

    def plan_device(self, requested: str) -> str:
        """Decided when connected: the units run on the cluster's machines, not this one."""
        return requested

    def start(self, device: str) -> str:
        """Connect (or start Ray here); resolve ``auto`` by the cluster's GPUs."""
        import ray

        if not ray.is_initialized():
            self._connect(ray)
        gpus = float(ray.cluster_resources().get("GPU", 0.0))
        if device == "cuda" and gpus == 0:
            raise UserError(
                "CUDA was requested but the Ray cluster has no GPU",
                field="--device",
                fix="use --device cpu, or add GPU nodes to the cluster",
            )
        if device == "auto":
            return "cuda" if gpus > 0 else "cpu"
        return device

    def _connect(self, ray: Any) -> None:
        args = self.args
        options: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.WARNING,
            "log_to_driver": True,
        }
        if args.runtime_env is not None:
            options["runtime_env"] = args.runtime_env
        if args.address is None:
            options["num_cpus"] = args.num_cpus or self.jobs
            if args.num_gpus is not None:
                options["num_gpus"] = args.num_gpus
            ray.init(**options)
            self._started_here = True
            return
        failure: list[BaseException] = []

        def connect() -> None:
            try:
                ray.init(address=args.address, **options)
            except BaseException as exc:  # reported below, in the caller's thread
                failure.append(exc)

        thread = threading.Thread(target=connect, name="ray-connect", daemon=True)
        saved = quiet_native_stderr()
        thread.start()
        thread.join(args.connect_timeout_s)
        restore_native_stderr(saved, abandoned=thread.is_alive())
        if thread.is_alive() or failure:
            reason = (
                f"no answer within {args.connect_timeout_s:g} s"
                if thread.is_alive()
                else (str(failure[0]).strip().splitlines() or [type(failure[0]).__name__])[0]
            )
            raise UserError(
                f"cannot connect to the Ray cluster at {args.address!r}: {reason}",
                field="executor.address",
                fix="start the cluster (ray start --head) or check the address; leave address "
                "out to start Ray on this machine",
            )

    def check_units(self, units: Sequence[UnitJob]) -> None:
        """Every unit must fit on one node of the cluster."""
        import ray

        nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
        for name, need in (
            ("GPU", max((u.resources.gpus for u in units), default=0.0)),
            ("CPU", max((u.resources.cpus for u in units), default=0.0)),
        ):
            most = max((float(node.get(name, 0.0)) for node in nodes), default=0.0)
            if need > most:
                raise UserError(
                    f"a unit asks for {need:g} {name}(s) but no node of the Ray cluster has "
                    f"more than {most:g}",
                    field="model_args",
                    fix=f"ask for fewer {name}s per unit, or add larger nodes",
                )

    def execute(self, grid: Grid) -> None:
        """Hand ready units to Ray as long as the cluster can run them; collect outcomes."""
        import ray

        task = ray.remote(run_unit)
        in_flight: dict[Any, UnitJob] = {}
        while not grid.done:
            for job in grid.ready():
                if len(in_flight) >= self._capacity(ray, job):
                    break
                resources = job.resources
                options: dict[str, Any] = {
                    "num_cpus": resources.cpus,
                    "num_gpus": resources.gpus,
                    "max_retries": 0,
                }
                if resources.memory_mb:
                    options["memory"] = resources.memory_mb * 2**20
                worker = WorkerOptions(
                    progress="lines" if grid.progress.lines else "off",
                    threads=grid.model_threads or max(1, int(resources.cpus)),
                )
                ref = task.options(**options).remote(grid.call, job.key, worker)
                in_flight[ref] = job
                grid.started(job, "ray")
            if not in_flight:
                break
            finished, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in finished:
                job = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    grid.crashed(job, f"{type(exc).__name__}: {first}")
                else:
                    grid.finished(job, outcome)

    def _capacity(self, ray: Any, job: UnitJob) -> int:
        """Units of ``job``'s size the cluster runs at once (at least one), capped by jobs."""
        total = fits(ray.cluster_resources(), job.resources.cpus, job.resources.gpus)
        return max(1, min(total, self.jobs or total))

    def stop(self) -> None:
        """Shut down a Ray instance this executor started."""
        if self._started_here:
            import ray

            ray.shutdown()
            self._started_here = False


@harness.hookimpl
def register_executors(register: Register[type[Executor]]) -> None:
    """Register the ``ray`` executor."""
    register(RayExecutor)
