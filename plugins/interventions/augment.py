"""``augment``: a new model from the same base, trained on ``train ∪ D_i``.

The most direct recipe (HateModerate's fine-tuning): add the specs' own train-side cases (D_i),
each labelled with its spec's label, to the train split and train from scratch with the run's
seed. It is the upper-bound row next to pool selection: the specs' data itself rather than pool
examples that resemble it. D_i_heldout never enters training; it only measures.

Modes:

- default: every D_i case;
- ``per_spec: N``: at most ``N`` cases per spec (a seeded sample of each spec's D_i);
- ``budget: N`` (or ``budget: run``, the run's budget): ``N`` cases sampled from D_i (seeded),
  spread over the specs in turns like guided selection, so that pool-guided retraining,
  pool-random retraining and D_i augmentation can be compared at the same budget.

``specs: [id, ...]`` restricts it to some specs. An unknown spec id, or a choice of specs without
any D_i case, is a one-line error while planning. ``changes`` records the mode, the counts added
per spec, per label and per source (``D_i``), and the added case ids.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Literal

import click
import numpy as np
from pydantic import Field, field_validator, model_validator

import harness
from harness.api import (
    DI_SOURCE,
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Register,
    Spec,
    Split,
    StrictModel,
    Task,
)
from harness.errors import UserError
from harness_plugins.interventions.common import SpecIds
from harness_plugins.interventions.selection import draw_counts, round_robin

SAMPLE_STREAM = 0xA06
"""Mixed into the seed of the D_i sample, so it does not repeat another seeded stream."""


class AugmentArgs(StrictModel):
    """Parameters of ``augment``."""

    per_spec: int | None = Field(
        default=None, ge=1, description="at most N D_i cases per spec (a seeded sample)"
    )
    budget: int | Literal["run"] | None = Field(
        default=None,
        description="N D_i cases sampled over the specs in turns (seeded); 'run': the run's budget",
    )
    specs: SpecIds | None = Field(
        default=None, min_length=1, description="only these spec ids (default: every spec)"
    )

    @field_validator("budget")
    @classmethod
    def _positive_budget(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and value < 1:
            raise ValueError("budget must be >= 1 (or 'run' for the run's budget)")
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> AugmentArgs:
        if self.per_spec is not None and self.budget is not None:
            raise ValueError("give per_spec or budget, not both")
        return self

    def mode(self) -> Literal["all", "per_spec", "budget"]:
        """Which of the three modes the arguments select."""
        if self.per_spec is not None:
            return "per_spec"
        return "budget" if self.budget is not None else "all"


def chosen_specs(specs: Sequence[Spec], wanted: Sequence[str] | None) -> list[Spec]:
    """The specs named in ``wanted`` (all for ``None``), in the run's order."""
    if wanted is None:
        return list(specs)
    keep = set(wanted)
    return [spec for spec in specs if spec.id in keep]


def sample_cases(
    specs: Sequence[Spec], args: AugmentArgs, budget: int | None, seed: int
) -> list[tuple[int, int]]:
    """``(spec position, case position)`` of the D_i cases to add, in spec and case order
    (every case, or a seeded sample: per spec, or ``budget`` spread over the specs in turns)."""
    mode = args.mode()
    if mode == "all":
        return [(s, c) for s, spec in enumerate(specs) for c in range(len(spec.train_cases))]
    rng = np.random.default_rng([seed, SAMPLE_STREAM])
    orders = [rng.permutation(len(spec.train_cases)) for spec in specs]
    if mode == "per_spec":
        cap = int(args.per_spec or 0)
        return [(s, int(c)) for s, order in enumerate(orders) for c in sorted(order[:cap])]
    offsets = np.cumsum([0] + [len(spec.train_cases) for spec in specs])
    candidates = [
        (offsets[s] + order.astype(np.int64), np.zeros(len(order)))
        for s, order in enumerate(orders)
    ]
    taken = round_robin(candidates, int(budget or 0))
    picks = []
    for index in sorted(i for _, i, _ in taken):
        spec = int(np.searchsorted(offsets, index, side="right") - 1)
        picks.append((spec, int(index - offsets[spec])))
    return picks


class Augment(Intervention[AugmentArgs]):
    """Retrain on the train split plus the specs' own D_i cases."""

    name = "augment"
    description = "retrain on train ∪ D_i: all cases, per_spec: N, or a seeded budget; specs: [...]"
    Args = AugmentArgs

    def label(self) -> str:
        """``augment``, ``augment-<N>-per-spec``, ``augment-<N>`` or ``augment-budget`` (the
        run's budget), with ``-<spec>+<spec>`` (or ``-<n>-specs``) for a subset of specs."""
        args: AugmentArgs = self.args
        text = "augment"
        if args.per_spec is not None:
            text += f"-{args.per_spec}-per-spec"
        elif args.budget is not None:
            text += f"-{args.budget}" if args.budget != "run" else "-budget"
        if args.specs:
            joined = "+".join(args.specs)
            text += f"-{joined}" if len(joined) <= 40 else f"-{len(args.specs)}-specs"
        return text

    def budget_spent(self, run_budget: int) -> int | None:
        """Its ``budget`` (``run``: the run's); ``None`` in the other modes."""
        args: AugmentArgs = self.args
        if args.budget is None:
            return None
        return run_budget if args.budget == "run" else int(args.budget)

    def check_plan(self, task: Task, specs: Sequence[Spec], field: str, run_budget: int) -> None:
        """Refuse unknown spec ids and a choice of specs without any D_i case; warn when D_i
        holds fewer cases than the budget."""
        args: AugmentArgs = self.args
        ids = [spec.id for spec in specs]
        for wanted in args.specs or []:
            if wanted not in ids:
                close = difflib.get_close_matches(wanted, ids, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                shown = ", ".join(ids[:12]) + (f", ... ({len(ids)} specs)" if len(ids) > 12 else "")
                raise UserError(
                    f"unknown spec id {wanted!r}",
                    field=f"{field}.specs",
                    fix=f"{hint}spec ids of this run: {shown or '(none)'}",
                )
        chosen = chosen_specs(specs, args.specs)
        available = sum(len(spec.train_cases) for spec in chosen)
        if available == 0:
            which = "the chosen specs" if args.specs else f"the run's {len(chosen)} spec(s)"
            raise UserError(
                f"augment adds the specs' D_i cases, but {which} have none (only held-out cases)",
                field=f"{field}.specs" if args.specs else field,
                fix="use suites with train templates (D_i), choose specs that have D_i cases, or "
                "drop augment",
            )
        budget = self.budget_spent(run_budget)
        if budget is not None and available < budget:
            click.echo(
                f"warning: {field}: D_i holds {available} cases, fewer than the budget {budget}: "
                f"augment adds {available}",
                err=True,
            )

    def apply(self, ctx: InterventionContext) -> InterventionOutcome:
        """Add the chosen D_i cases to train and train a new model with the run's seed."""
        args: AugmentArgs = self.args
        task = ctx.task
        specs = chosen_specs(ctx.specs, args.specs)
        budget = self.budget_spent(ctx.budget)
        picks = sample_cases(specs, args, budget, ctx.seed)
        cases = [(specs[s], specs[s].train_cases[c]) for s, c in picks]
        added = Split(
            ids=[case.id for _, case in cases],
            texts=[case.text for _, case in cases],
            labels=np.asarray([task.label_index(spec.label) for spec, _ in cases], dtype=np.int64),
            sources=[DI_SOURCE] * len(cases),
        )
        split = task.train.concat(added)
        model = ctx.train_model(ctx.new_model(), split, self.label())
        available = sum(len(spec.train_cases) for spec in specs)
        spec_counts = {spec.id: 0 for spec in specs}
        for spec, _ in cases:
            spec_counts[spec.id] += 1
        changes = {
            "mode": args.mode(),
            "budget": budget,
            "per_spec": args.per_spec,
            "specs": [spec.id for spec in specs],
            "n_available": available,
            "n_added": len(cases),
            "shortfall": max(0, budget - len(cases)) if budget is not None else 0,
            **draw_counts(added, task.label_names, [DI_SOURCE]),
            "spec_counts": spec_counts,
            "added_ids": added.ids,
        }
        return InterventionOutcome(model=model, changes=changes, train_split=split)


@harness.hookimpl
def register_interventions(register: Register[type[Intervention]]) -> None:
    """Register ``augment``."""
    register(Augment)
