"""Checks that need the loaded task, the specs and the configured interventions together, made
while planning a run (before anything is trained or written).

They read only what :class:`harness.api.Intervention` declares: ``uses_pool``,
``pool_sources()``, ``budget_spent()``, ``check_model()`` and ``check_plan()``.

A pool smaller than the budget is *clamped*: every pool-drawing intervention of the run adds at
most as many examples as it has candidates, so guided and random variants stay comparable, and a
one-line ``warning:`` says so. An empty pool (or empty named sources) with an intervention that
draws from it is an error, since that intervention would silently retrain on the train split
alone. A source name the pool does not have is an error. Pool rows whose text is a train text
(retraining on them adds duplicates, not data) or a test text (retraining on them trains on the
test set and inflates test accuracy) are counted per source and reported in a ``warning:``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import click

from harness.api import Intervention, Model, Spec, Task
from harness.display import printable
from harness.errors import UserError


def intervention_field(label: str) -> str:
    """Where an intervention sits in the config, for error messages."""
    return f"interventions ({label}).params"


def pool_sources(task: Task) -> dict[str, int]:
    """``{source: rows}`` of the task's pool; empty for a pool without named sources."""
    return task.pool.source_counts() if task.pool.sources is not None else {}


def check_sources(task: Task, label: str, wanted: Sequence[str]) -> int:
    """Refuse source names the pool does not have; return how many pool rows they hold."""
    known = pool_sources(task)
    field = f"{intervention_field(label)}.sources"
    if not known:
        raise UserError(
            f"the pool of task {task.name!r} has no named sources, so sources "
            f"{', '.join(map(repr, wanted))} cannot be chosen",
            field=field,
            fix="drop `sources`, or give the task a list of named pool sources "
            "(files task: pool: [{name: general, path: ...}, ...])",
        )
    for name in wanted:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UserError(
                f"unknown pool source {name!r}",
                field=field,
                fix=f"{hint}sources of task {task.name!r}: {', '.join(known)}",
            )
    return sum(known[name] for name in dict.fromkeys(wanted))


def pool_overlap(task: Task) -> dict[str, dict[str, int]]:
    """How many pool rows repeat a text of the train split and of the test split (verbatim),
    per pool source (``""`` for a pool without named sources): ``{"train": {source: n},
    "test": {source: n}}``, sources without repeats left out. Pool texts are streamed, so an
    Arrow-backed pool is not copied into a list."""
    splits = {"train": set(task.train.texts), "test": set(task.test.texts)}
    found: dict[str, dict[str, int]] = {name: {} for name in splits}
    sources = task.pool.sources
    for row, text in enumerate(task.pool.texts):
        for name, texts in splits.items():
            if text in texts:
                source = (sources[row] or "") if sources is not None else ""
                found[name][source] = found[name].get(source, 0) + 1
    return found


def warn_pool_overlap(task: Task) -> None:
    """One ``warning:`` line per split the pool repeats texts of (see :func:`pool_overlap`)."""
    if not len(task.pool):
        return
    overlap = pool_overlap(task)
    consequence = {
        "train": "retraining on them adds duplicates, not new data; drop them from the pool",
        "test": "a retrain that draws them trains on test examples and inflates test accuracy; "
        "remove them from the pool",
    }
    for split, per_source in overlap.items():
        if not per_source:
            continue
        total = sum(per_source.values())
        named = [f"{source} {n}" for source, n in per_source.items() if source]
        where = f" ({', '.join(named)})" if named else ""
        message = (
            f"task {task.name!r}: {total} of {len(task.pool)} pool rows{where} are texts of "
            f"the {split} split (verbatim): {consequence[split]}"
        )
        click.echo(f"warning: {printable(message)}", err=True)


def check_pool(
    task: Task, run_budget: int, interventions: Sequence[tuple[str, Intervention]]
) -> None:
    """Refuse unknown source names and an empty pool for pool-drawing interventions; warn when
    the candidates are fewer than a budget (the selection is clamped to them) and when pool
    rows repeat train or test texts."""
    if any(intervention.uses_pool for _, intervention in interventions):
        warn_pool_overlap(task)
    for label, intervention in interventions:
        if not intervention.uses_pool:
            continue
        wanted = intervention.pool_sources()
        n_pool = len(task.pool) if wanted is None else check_sources(task, label, wanted)
        budget = intervention.budget_spent(run_budget)
        if not budget:
            continue
        where = "" if wanted is None else f" in source(s) {', '.join(wanted)}"
        if n_pool == 0:
            raise UserError(
                f"{label} draws up to {budget} examples from the pool{where}, but task "
                f"{task.name!r} has an empty pool{where}",
                field=f"interventions ({label})",
                fix="give the task a pool (files task: task_args pool=FILE), set budget: 0, or "
                "drop the intervention",
            )
        if n_pool < budget:
            message = (
                f"task {task.name!r}: the pool has {n_pool} examples{where}, fewer than the "
                f"budget {budget}: {label} adds at most {n_pool}"
            )
            click.echo(f"warning: {printable(message)}", err=True)


def check_interventions(
    task: Task,
    specs: Sequence[Spec],
    run_budget: int,
    interventions: Sequence[tuple[str, Intervention]],
    model_class: type[Model] | None = None,
) -> None:
    """Every planning check of the configured interventions: each one's own
    :meth:`~harness.api.Intervention.check_model` (against the run's ``model_class``, when
    given) and :meth:`~harness.api.Intervention.check_plan`, then the pool checks."""
    for label, intervention in interventions:
        if model_class is not None:
            intervention.check_model(model_class, intervention_field(label))
        intervention.check_plan(task, specs, intervention_field(label), run_budget)
    check_pool(task, run_budget, interventions)
