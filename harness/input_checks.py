"""Checks that need the loaded task and the configured interventions together, made while
planning a run (before anything is written).

A pool smaller than the budget is *clamped*: every pool-drawing intervention of the run adds at
most ``len(pool)`` examples, so guided and random variants stay comparable, and a one-line
``warning:`` says so. An empty pool with an intervention that draws from it is an error, since that
intervention would silently retrain on the train split alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from harness.api import Intervention, Task
from harness.errors import UserError


def uses_pool(intervention: Intervention) -> bool:
    """Whether ``intervention`` draws examples from the task's pool (class attribute
    ``uses_pool``; the built-in ``retrain`` does)."""
    return bool(getattr(intervention, "uses_pool", intervention.name == "retrain"))


def intervention_budget(intervention: Intervention, run_budget: int) -> int:
    """The budget an intervention uses: its own ``budget`` argument, else the run's."""
    own = getattr(intervention.args, "budget", None)
    return int(own) if isinstance(own, int) and not isinstance(own, bool) else run_budget


def check_pool(
    task: Task, run_budget: int, interventions: Sequence[tuple[str, Intervention]]
) -> None:
    """Refuse an empty pool for pool-drawing interventions; warn when the pool is smaller than
    a budget (the selection is clamped to the pool)."""
    n_pool = len(task.pool)
    for label, intervention in interventions:
        if not uses_pool(intervention):
            continue
        stratify = getattr(intervention.args, "stratify", None)
        if isinstance(stratify, dict):
            unknown = sorted(set(stratify) - set(task.label_names))
            if unknown:
                raise UserError(
                    f"unknown label(s) {', '.join(map(repr, unknown))} in stratify",
                    field=f"interventions ({label}).params.stratify",
                    fix=f"use labels of task {task.name!r}: {', '.join(task.label_names)}",
                )
        budget = intervention_budget(intervention, run_budget)
        if budget <= 0:
            continue
        if n_pool == 0:
            raise UserError(
                f"{label} draws up to {budget} examples from the pool, but task "
                f"{task.name!r} has an empty pool",
                field=f"interventions ({label})",
                fix="give the task a pool (files task: task_args pool=FILE), set budget: 0, or "
                "drop the intervention",
            )
        if n_pool < budget:
            click.echo(
                f"warning: task {task.name!r}: the pool has {n_pool} examples, fewer than the "
                f"budget {budget}: {label} adds at most {n_pool}",
                err=True,
            )
