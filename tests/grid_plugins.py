"""A test-only plugin module for the executor tests: worker processes import it by name (the
run hands them the plugin modules its process registered), which an object registered
in-process could not travel as.

``flaky`` retrains M0's data (a cache hit: cheap) after misbehaving as its ``mode`` says, while
the file ``marker`` exists (``kill``: the first attempt removes the marker and kills its own
process with SIGKILL; ``fail``: raises; ``user``: raises a user error)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Literal

import harness
from harness.api import (
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Register,
    StrictModel,
)
from harness.errors import UserError


class FlakyArgs(StrictModel):
    mode: Literal["kill", "fail", "user"]
    marker: str


class Flaky(Intervention[FlakyArgs]):
    name = "flaky"
    description = "misbehaves while its marker file exists (tests only)"
    Args = FlakyArgs

    def label(self) -> str:
        return f"flaky-{self.args.mode}"

    def apply(self, ctx: InterventionContext) -> InterventionOutcome:
        marker = Path(self.args.marker)
        if marker.exists():
            if self.args.mode == "kill":
                marker.unlink()
                os.kill(os.getpid(), signal.SIGKILL)
            if self.args.mode == "fail":
                raise RuntimeError(f"failing while {marker.name} exists")
            raise UserError("a bad argument only the unit can see", field="params.marker")
        model = ctx.train_model(ctx.new_model(), ctx.task.train, self.label())
        return InterventionOutcome(model=model, train_split=ctx.task.train)


@harness.hookimpl
def register_interventions(register: Register[type[Intervention]]) -> None:
    register(Flaky)
