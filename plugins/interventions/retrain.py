"""``retrain``: a new model from the same base, trained on ``train ∪ Sample(pool)``.

``selection`` names the selector (``random`` is the baseline; ``tfidf``, ``bm25``, ``embedding``,
``dsir`` are guided by the specs' D_i cases). Every variant in a run uses the same budget (the
run's ``budget`` unless ``budget`` is given here), the same seeds and the same M0 data, so guided
and random retraining differ only in *which* pool examples are added. ``sources: [general]``
restricts the candidates to named pool sources, so guided-from-the-general-pool and
guided-from-every-source can be compared in one run. The added pool ids, the counts drawn per
label, per source and per source and label, and the per-spec coverage (a pre-training signal)
are recorded in ``changes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

import harness
from harness.api import (
    ComparisonRole,
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Register,
    Spec,
    StrictModel,
    Task,
)
from harness.cache import hash_spec_train_cases, hash_split, hash_texts, model_hash
from harness.errors import UserError
from harness_plugins.interventions.common import SourceNames, check_selector
from harness_plugins.interventions.selection import select

RANDOM = "random"
"""The baseline selector: a uniform random sample of the candidates."""


class RetrainArgs(StrictModel):
    """Parameters of ``retrain``."""

    selection: str = Field(default=RANDOM, description="selector name (random = baseline)")
    selector_args: dict[str, Any] = Field(
        default_factory=dict,
        description="arguments of the selector named in selection, checked against its Args "
        "(see Built-in selectors), e.g. {ngram_max: 1}",
    )
    budget: int | None = Field(default=None, ge=0, description="default: the run's budget")
    labels: Literal["keep", "agree"] = Field(
        default="keep", description="keep pool labels, or only draw examples agreeing with the spec"
    )
    stratify: Literal["pool"] | dict[str, float] | None = Field(
        default=None, description="split the budget over labels: 'pool' ratio or {label: share}"
    )
    sources: SourceNames | None = Field(
        default=None,
        min_length=1,
        description="draw only from these named pool sources (default: every source)",
    )

    @field_validator("selection")
    @classmethod
    def _known_selector(cls, value: str, info: ValidationInfo) -> str:
        check_selector(value, info)
        return value

    @field_validator("selector_args")
    @classmethod
    def _valid_selector_args(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if "selection" in info.data:  # else the selector's name is the error
            check_selector(info.data["selection"], info, value)
        return value


class Retrain(Intervention[RetrainArgs]):
    """Retrain on the train split plus a (guided or random) sample of the pool."""

    name = "retrain"
    description = "retrain on train ∪ Sample(pool); selection: random | tfidf | bm25 | ..."
    Args = RetrainArgs
    uses_pool = True

    def label(self) -> str:
        """``retrain-<selector>``, with ``-agree`` / ``-stratified`` for those options and
        ``-<source>+<source>`` when the candidates are restricted to named pool sources."""
        args: RetrainArgs = self.args
        text = f"retrain-{args.selection}"
        text += "-agree" if args.labels == "agree" else ""
        text += "-stratified" if args.stratify is not None else ""
        return text + ("-" + "+".join(args.sources) if args.sources else "")

    def budget_spent(self, run_budget: int) -> int | None:
        """Its own ``budget``, else the run's."""
        args: RetrainArgs = self.args
        return run_budget if args.budget is None else args.budget

    def comparison_role(self, run_budget: int | None) -> ComparisonRole:
        """``selection: random`` is the baseline of the ``retrain`` group, every other
        selector guided; rows pair at the same budget drawing from the same ``sources``."""
        args: RetrainArgs = self.args
        budget = run_budget if args.budget is None else args.budget
        sources = None if args.sources is None else tuple(args.sources)
        baseline = "selection: random" + (f", sources: [{', '.join(sources)}]" if sources else "")
        if args.budget is not None:
            baseline += f", budget: {budget}"
        return ComparisonRole(
            group=self.name,
            role="baseline" if args.selection == RANDOM else "guided",
            budget=budget,
            sources=sources,
            comparison_kind="guided-vs-random",
            baseline_name="random retrain",
            baseline_hint=f"a retrain with {{{baseline}}}",
        )

    def pool_sources(self) -> list[str] | None:
        """The ``sources`` it is restricted to (``None``: every pool source)."""
        args: RetrainArgs = self.args
        return None if args.sources is None else list(args.sources)

    def check_plan(self, task: Task, specs: Sequence[Spec], field: str, run_budget: int) -> None:
        """Labels named in ``stratify`` must be the task's."""
        args: RetrainArgs = self.args
        if isinstance(args.stratify, dict):
            unknown = sorted(set(args.stratify) - set(task.label_names))
            if unknown:
                raise UserError(
                    f"unknown label(s) {', '.join(map(repr, unknown))} in stratify",
                    field=f"{field}.stratify",
                    fix=f"use labels of task {task.name!r}: {', '.join(task.label_names)}",
                )

    def apply(self, ctx: InterventionContext) -> InterventionOutcome:
        """Select, add to train, and train a new model with the run's seed."""
        args: RetrainArgs = self.args
        task = ctx.task
        budget = ctx.budget if args.budget is None else args.budget
        selector = ctx.selectors(args.selection, args.selector_args)

        def choose() -> dict[str, Any]:
            selection = select(
                selector,
                task.pool,
                ctx.specs,
                budget,
                seed=ctx.seed,
                label_names=task.label_names,
                model=ctx.base_model,
                labels=args.labels,
                stratify=args.stratify,
                sources=args.sources,
            )
            return {
                "indices": sorted(int(i) for i in selection.indices),
                "summary": selection.summary(task.pool, task.label_names),
            }

        recipe = {
            "step": "retrain-selection",
            "args": args.model_dump(mode="json"),
            "budget": budget,
            "seed": ctx.seed,
            "pool": hash_split(task.pool),
            **({"pool_sources": hash_texts(task.pool.sources)} if task.pool.sources else {}),
            "labels": task.label_names,
            "specs": hash_spec_train_cases(ctx.specs),
            "base_model": model_hash(ctx.base_model),
        }
        chosen = ctx.memo(recipe, choose)
        added = task.pool.subset(chosen["indices"])
        split = task.train.concat(added)
        model = ctx.train_model(ctx.new_model(), split, self.label())
        changes = {"selector": args.selection, **chosen["summary"]}
        return InterventionOutcome(model=model, changes=changes, train_split=split)


@harness.hookimpl
def register_interventions(register: Register[type[Intervention]]) -> None:
    """Register ``retrain``."""
    register(Retrain)
