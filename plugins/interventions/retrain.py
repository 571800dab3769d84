"""``retrain``: a new model from the same base, trained on ``train ∪ Sample(pool)``.

``selection`` names the selector (``random`` is the baseline; ``tfidf``, ``bm25``, ``embedding``,
``dsir`` are guided by the specs' D_i cases). Every variant in a run uses the same budget (the
run's ``budget`` unless ``budget`` is given here), the same seeds and the same M0 data, so guided
and random retraining differ only in *which* pool examples are added. ``sources: [general]``
restricts the candidates to named pool sources, so guided-from-the-general-pool and
guided-from-every-source can be compared in one run. The added pool ids, the counts drawn per
label, per source and per source and label, and the per-spec coverage (a pre-training signal)
are recorded in ``changes``.

``rerank: pvi`` (any difficulty measure that scores held-out examples, ``harness list measures``)
re-orders the head of each spec's candidate list by the measure under the run's model family
before the round-robin: ``rerank_order: hardest`` (default) prefers the pool examples whose label
the model finds hardest to tell from the text (lowest PVI under ``g'`` = M0, trained on the train
split: the counterexamples to a shortcut, or label errors of the pool), ``easiest`` the opposite.
``rerank_depth`` sets how deep the head goes: ``depth`` times each spec's share of the budget.
The cost is the measure's (``pvi``: one extra training, the null model; M0 comes from the cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

import harness
from harness.api import (
    ComparisonRole,
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Model,
    Register,
    Spec,
    StrictModel,
    Task,
)
from harness.cache import hash_spec_train_cases, hash_split, hash_texts, model_hash
from harness.errors import UserError
from harness_plugins.interventions.common import (
    SourceNames,
    check_measure_args,
    check_measure_model,
    check_selector,
    measure_for,
)
from harness_plugins.interventions.selection import Rerank, select

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
    rerank: str | None = Field(
        default=None,
        description="re-rank each spec's top candidates by a difficulty measure (e.g. pvi)",
    )
    rerank_args: dict[str, Any] = Field(default_factory=dict)
    rerank_order: Literal["hardest", "easiest"] = Field(
        default="hardest", description="which candidates the re-ranking puts first"
    )
    rerank_depth: float = Field(
        default=3.0,
        ge=1,
        le=1000,
        description="candidates re-ranked per spec: depth x the spec's share of the budget",
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

    @field_validator("rerank")
    @classmethod
    def _known_measure(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            check_measure_args(value, info, {}, heldout=True)
        return value

    @field_validator("rerank_args")
    @classmethod
    def _valid_rerank_args(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        measure = info.data.get("rerank")
        if measure is not None:
            check_measure_args(measure, info, value, heldout=True)
        elif value and "rerank" in info.data:
            raise ValueError("rerank_args need a rerank measure (e.g. rerank: pvi)")
        return value


class Retrain(Intervention[RetrainArgs]):
    """Retrain on the train split plus a (guided or random) sample of the pool."""

    name = "retrain"
    description = "retrain on train ∪ Sample(pool); selection: random | tfidf | bm25 | ..."
    Args = RetrainArgs
    uses_pool = True

    def label(self) -> str:
        """``retrain-<selector>``, with ``-agree`` / ``-stratified`` for those options,
        ``-<measure>`` for a re-ranking, and ``-<source>+<source>`` when the candidates are
        restricted to named pool sources."""
        args: RetrainArgs = self.args
        text = f"retrain-{args.selection}"
        text += "-agree" if args.labels == "agree" else ""
        text += "-stratified" if args.stratify is not None else ""
        if args.rerank is not None:
            text += f"-{args.rerank}" + ("-easiest" if args.rerank_order == "easiest" else "")
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

    def check_model(self, model_class: type[Model], field: str) -> None:
        """A re-ranking measure must be able to work with the run's model."""
        args: RetrainArgs = self.args
        if args.rerank is not None:
            check_measure_model(args.rerank, model_class, f"{field}.rerank", "re-ranking measure")

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
            rerank = self._rerank(ctx)
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
                rerank=rerank,
            )
            summary = selection.summary(task.pool, task.label_names)
            if rerank is not None:
                summary["rerank"] = self._rerank_summary(rerank, selection.indices)
            return {"indices": sorted(int(i) for i in selection.indices), "summary": summary}

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

    def _rerank(self, ctx: InterventionContext) -> Rerank | None:
        """The configured re-ranking: the measure's scores of pool candidates under models of
        the run's family trained on the train split (lower first for ``hardest``)."""
        args: RetrainArgs = self.args
        if args.rerank is None:
            return None
        measure = measure_for(ctx, args.rerank, args.rerank_args)
        family = ctx.model_family()
        pool, train = ctx.task.pool, ctx.task.train
        sign = 1.0 if args.rerank_order == "hardest" else -1.0

        def key(indices: np.ndarray) -> np.ndarray:
            scores = measure.score(family, train, pool.subset(indices))
            return sign * np.asarray(scores.values, dtype=np.float64)

        return Rerank(key=key, depth=args.rerank_depth)

    def _rerank_summary(self, rerank: Rerank, selected: np.ndarray) -> dict[str, Any]:
        """What the re-ranking saw: the measure's mean over the candidates it scored and over
        the examples selected (in the measure's own sign)."""
        args: RetrainArgs = self.args
        sign = 1.0 if args.rerank_order == "hardest" else -1.0
        scored = np.asarray(list(rerank.keys.values()), dtype=np.float64) * sign
        chosen = [rerank.keys[int(i)] * sign for i in selected if int(i) in rerank.keys]
        return {
            "measure": args.rerank,
            "order": args.rerank_order,
            "depth": args.rerank_depth,
            "n_scored": int(len(scored)),
            "mean_scored": round(float(scored.mean()), 6) if len(scored) else None,
            "n_selected_scored": len(chosen),
            "mean_selected": round(float(np.mean(chosen)), 6) if chosen else None,
        }


@harness.hookimpl
def register_interventions(register: Register[type[Intervention]]) -> None:
    """Register ``retrain``."""
    register(Retrain)
