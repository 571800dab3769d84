"""``relabel``: flip ``k`` train labels, then retrain; spec-based or with the baselines.

Spec-based (``method: rrf`` or ``borda``): for each label L, every train example is ranked by
similarity (a selector, ``tfidf`` by default) to the D_i cases of each spec whose label is L,
giving a ``|train| x |S_L|`` matrix of ranks. The ranks are aggregated per example by reciprocal
rank fusion (``sum 1 / (rrf_k + rank)``, ``rrf_k = 60``) or Borda count (``sum (n - rank)``),
examples already labelled L are dropped, and the top ``k_L`` are flipped to L. ``k`` is split over
the labels in proportion to their number of specs.

Baselines on the same ``k``: ``cleanlab`` (confident learning, ``cleanlab.filter.find_label_issues``
on out-of-fold predicted probabilities; the ``k`` highest-ranked issues, topped up by the lowest
label-quality scores if it reports fewer, each flipped to its predicted label) and ``random``
(``k_L`` random examples not labelled L flipped to L).

Any registered difficulty measure (:class:`harness.api.DifficultyMeasure`, ``harness list
measures``) is a method too: ``method: pvi`` flips the ``k`` train examples with the lowest
cross-fitted pointwise V-usable information, ``method: cartography`` the ``k`` most
hard-to-learn ones (lowest confidence + variability across epochs), each to the label the
measure's models find most likely among the others; ``method_args`` are the measure's
arguments (``{folds: 5}``). A third party adds a relabel method by registering a measure.

Evaluation: with ``inject_noise: r`` a share ``r`` of train labels is flipped first (seeded by
``noise_seed`` or the run seed, recorded). The flips of the method are scored against the noisy
ids (injected ones, and the task's own ``metadata["noisy_train_ids"]`` when it lists them):
``precision_at_k`` and ``recall``. A random flip set with the same per-label counts is scored
the same way (``random_precision_at_k``), at no training cost, so every row carries its baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

import harness
from harness.api import (
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Model,
    Register,
    Spec,
    Split,
    StrictModel,
    Task,
)
from harness.cache import hash_spec_train_cases, hash_split, model_hash
from harness.errors import UserError
from harness_plugins.interventions.common import (
    check_measure_args,
    check_measure_model,
    check_selector,
    is_measure,
    measure_for,
)
from harness_plugins.interventions.selection import largest_remainder

OWN_METHODS = ("rrf", "borda", "cleanlab", "random")
"""The methods of ``relabel`` itself; every other ``method`` names a difficulty measure."""
SPEC_METHODS = ("rrf", "borda")

CLEANLAB_MISSING = UserError(
    "relabel method 'cleanlab' needs the optional package cleanlab, which is not installed",
    field="interventions.params.method",
    fix="pip install 'spec-harness[cleanlab]' (or cleanlab), or use method: rrf",
)


class RelabelArgs(StrictModel):
    """Parameters of ``relabel``."""

    method: str = Field(
        default="rrf",
        description="rrf | borda (spec-based), cleanlab, random, or a difficulty measure "
        "(pvi, cartography: harness list measures)",
    )
    method_args: dict[str, Any] = Field(
        default_factory=dict, description="arguments of a difficulty-measure method"
    )
    k: int = Field(default=100, ge=0, description="labels to flip")
    rrf_k: int = Field(default=60, ge=0, description="constant of reciprocal rank fusion")
    similarity: str = Field(default="tfidf", description="selector that ranks train examples")
    similarity_args: dict[str, Any] = Field(
        default_factory=dict,
        description="arguments of the selector named in similarity, checked against its Args",
    )
    inject_noise: float | None = Field(
        default=None, ge=0, lt=1, description="share of train labels flipped before relabelling"
    )
    noise_seed: int | None = Field(default=None, description="default: the run seed")
    oof: Literal["sklearn", "model"] = Field(
        default="sklearn",
        description="cleanlab's out-of-fold probabilities: TF-IDF + logistic regression "
        "(fast) or k-fold training of the run's model",
    )
    folds: int = Field(default=5, ge=2)

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str, info: ValidationInfo) -> str:
        if value == "cleanlab":
            import importlib.util

            if importlib.util.find_spec("cleanlab") is None:
                raise ValueError(CLEANLAB_MISSING.problem + "; " + (CLEANLAB_MISSING.fix or ""))
        if value not in OWN_METHODS and not is_measure(value, info):
            import difflib

            from harness.api import registries_in

            names = [*OWN_METHODS, *registries_in(info).difficulty_measures.names()]
            close = difflib.get_close_matches(value, names, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ValueError(f"unknown relabel method {value!r}; {hint}valid: {', '.join(names)}")
        return value

    @field_validator("method_args")
    @classmethod
    def _valid_method_args(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        method = info.data.get("method")
        if method is None:  # the method itself is the error
            return value
        if method in OWN_METHODS:
            if value:
                raise ValueError(
                    f"method {method!r} takes no method_args; they are the arguments of a "
                    "difficulty-measure method (e.g. method: pvi, method_args: {folds: 5})"
                )
            return value
        check_measure_args(method, info, value)
        return value

    @field_validator("similarity")
    @classmethod
    def _known_similarity(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("method") in SPEC_METHODS:
            check_selector(value, info)
        return value

    @field_validator("similarity_args")
    @classmethod
    def _valid_similarity_args(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.data.get("method") in SPEC_METHODS and "similarity" in info.data:
            check_selector(info.data["similarity"], info, value)
        return value


# --------------------------------------------------------------------------------------------
# Rank aggregation
# --------------------------------------------------------------------------------------------


def rank_matrix(orders: Sequence[np.ndarray], n: int) -> np.ndarray:
    """``n x len(orders)`` ranks (1 = best) from each column's best-first ordering of 0..n-1.
    Items missing from an ordering get rank ``n``."""
    ranks = np.full((n, len(orders)), n, dtype=np.int64)
    for j, order in enumerate(orders):
        order = np.asarray(order, dtype=np.int64)
        ranks[order, j] = np.arange(1, len(order) + 1)
    return ranks


def rrf_scores(ranks: np.ndarray, k: int = 60) -> np.ndarray:
    """Reciprocal rank fusion: ``sum_j 1 / (k + rank_ij)`` per row."""
    return (1.0 / (k + ranks.astype(np.float64))).sum(axis=1)


def borda_scores(ranks: np.ndarray) -> np.ndarray:
    """Borda count: ``sum_j (n - rank_ij)`` per row (the best of n items earns n - 1)."""
    n = ranks.shape[0]
    return (n - ranks.astype(np.float64)).sum(axis=1)


def top_candidates(scores: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` eligible rows with the highest score (ties: lower index first)."""
    rows = np.flatnonzero(eligible)
    order = np.lexsort((rows, -scores[rows]))
    return rows[order[:k]]


# --------------------------------------------------------------------------------------------
# Noise
# --------------------------------------------------------------------------------------------


def inject_noise(
    labels: np.ndarray, rate: float, seed: int, num_labels: int, exclude: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Flip ``round(rate * n)`` labels chosen with ``seed`` (never those in ``exclude``) to a
    different label; return the new labels and the flipped indices (sorted)."""
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    eligible = np.ones(n, dtype=bool)
    if exclude is not None and len(exclude):
        eligible[np.asarray(exclude, dtype=np.int64)] = False
    pool = np.flatnonzero(eligible)
    count = min(len(pool), int(round(rate * n)))
    rng = np.random.default_rng([seed, 0x2015E])
    flipped = np.sort(rng.choice(pool, size=count, replace=False)) if count else pool[:0]
    new = labels.copy()
    if count and num_labels > 1:
        new[flipped] = (labels[flipped] + rng.integers(1, num_labels, size=count)) % num_labels
    return new, flipped


def flip_quality(flipped: set[int], noisy: set[int]) -> dict[str, Any]:
    """Precision@k and recall of ``flipped`` indices against the ``noisy`` ones."""
    hits = len(flipped & noisy)
    return {
        "k": len(flipped),
        "n_noisy": len(noisy),
        "hits": hits,
        "precision_at_k": round(hits / len(flipped), 6) if flipped else None,
        "recall": round(hits / len(noisy), 6) if noisy else None,
    }


# --------------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------------


def per_label_k(k: int, specs: Sequence[Spec], label_names: Sequence[str]) -> dict[int, int]:
    """``k`` split over labels in proportion to their number of (guiding) specs."""
    shares = {i: 0.0 for i in range(len(label_names))}
    for spec in specs:
        if spec.train_cases:
            shares[label_names.index(spec.label)] += 1.0
    return largest_remainder(k, shares)


def spec_flips(
    ctx: InterventionContext, train: Split, args: RelabelArgs
) -> tuple[list[tuple[int, int]], dict[str, Any]]:
    """Spec-based flips: ``(train index, new label)`` best first, plus details."""
    task = ctx.task
    selector = ctx.selectors(args.similarity, args.similarity_args)
    quotas = per_label_k(args.k, ctx.specs, task.label_names)
    n = len(train)
    flips: list[tuple[int, int]] = []
    taken = np.zeros(n, dtype=bool)
    for label, quota in quotas.items():
        specs = [s for s in ctx.specs if s.train_cases and task.label_index(s.label) == label]
        if not specs or quota == 0:
            continue
        ranked = selector.top_k(
            train.texts,
            [[c.text for c in s.train_cases] for s in specs],
            n,
            ctx.seed,
            ctx.base_model,
        )
        ranks = rank_matrix([idx for idx, _ in ranked], n)
        scores = rrf_scores(ranks, args.rrf_k) if args.method == "rrf" else borda_scores(ranks)
        eligible = (train.labels != label) & ~taken
        for i in top_candidates(scores, eligible, quota):
            flips.append((int(i), label))
            taken[i] = True
    details = {"similarity": args.similarity, "rrf_k": args.rrf_k if args.method == "rrf" else None}
    return flips, details


def out_of_fold_probabilities(
    ctx: InterventionContext, train: Split, args: RelabelArgs
) -> np.ndarray:
    """Out-of-fold class probabilities for every train example."""
    from sklearn.model_selection import StratifiedKFold

    num_labels = len(ctx.task.label_names)
    smallest = int(np.bincount(train.labels, minlength=num_labels)[train.labels].min())
    folds = max(2, min(args.folds, smallest))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=ctx.seed)
    probs = np.zeros((len(train), num_labels), dtype=np.float64)
    if args.oof == "sklearn":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_predict
        from sklearn.pipeline import make_pipeline

        pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"),
            LogisticRegression(max_iter=1000, C=10.0),
        )
        found = cross_val_predict(
            pipeline, list(train.texts), train.labels, cv=splitter, method="predict_proba"
        )
        classes = np.unique(train.labels)
        probs[:, classes] = found
        return probs
    for fold, (fit_idx, held_idx) in enumerate(splitter.split(np.zeros(len(train)), train.labels)):
        model = ctx.train_model(ctx.new_model(), train.subset(fit_idx), f"relabel-oof-{fold}")
        probs[held_idx] = model.predict_proba([train.texts[int(i)] for i in held_idx])
    return probs


def cleanlab_flips(
    ctx: InterventionContext, train: Split, args: RelabelArgs
) -> tuple[list[tuple[int, int]], dict[str, Any]]:
    """Confident-learning flips: the ``k`` most likely label issues, to the predicted label."""
    try:
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores
    except ImportError as exc:
        raise CLEANLAB_MISSING from exc
    probs = out_of_fold_probabilities(ctx, train, args)
    # n_jobs=1: cleanlab's own process pool would use every core of the machine (and
    # relies on fork), while a unit runs on its share of the cores, maybe in a worker process
    issues = np.asarray(
        find_label_issues(
            train.labels, probs, return_indices_ranked_by="self_confidence", n_jobs=1
        ),
        dtype=np.int64,
    )
    chosen = list(issues[: args.k])
    if len(chosen) < args.k:
        quality = get_label_quality_scores(train.labels, probs)
        seen = set(int(i) for i in chosen)
        for i in np.lexsort((np.arange(len(train)), quality)):
            if len(chosen) >= args.k:
                break
            if int(i) not in seen:
                chosen.append(int(i))
                seen.add(int(i))
    flips = []
    for i in chosen:
        order = np.argsort(-probs[int(i)], kind="stable")
        new = int(order[0]) if int(order[0]) != int(train.labels[int(i)]) else int(order[1])
        flips.append((int(i), new))
    details = {"oof": args.oof, "n_issues_found": int(len(issues))}
    return flips, details


def measure_flips(
    ctx: InterventionContext, train: Split, args: RelabelArgs
) -> tuple[list[tuple[int, int]], dict[str, Any]]:
    """Flips by a difficulty measure: the ``k`` examples it finds most likely mislabelled (its
    scores of ``train`` itself, e.g. cross-fitted PVI or training dynamics), each to the label
    its models find most likely among the others."""
    measure = measure_for(ctx, args.method, args.method_args)
    scores = measure.score(ctx.model_family(), train)
    chosen = scores.order()[: args.k]
    values = np.asarray(scores.values, dtype=np.float64)
    flips = [(int(i), int(scores.suggested_labels[int(i)])) for i in chosen]
    details = {
        "measure": {
            "name": args.method,
            "unit": measure.unit,
            **scores.summary,
            "mean_flipped": round(float(values[chosen].mean()), 6) if len(chosen) else None,
        },
        "flip_scores": [round(float(values[int(i)]), 6) for i in chosen],
    }
    return flips, details


def random_flips(train: Split, quotas: dict[int, int], seed: int) -> list[tuple[int, int]]:
    """``quotas[L]`` random examples not labelled L (and not already chosen) flipped to L."""
    rng = np.random.default_rng([seed, 0x4A9D0])
    taken = np.zeros(len(train), dtype=bool)
    flips: list[tuple[int, int]] = []
    for label in sorted(quotas):
        rows = np.flatnonzero((train.labels != label) & ~taken)
        count = min(quotas[label], len(rows))
        for i in np.sort(rng.choice(rows, size=count, replace=False)) if count else []:
            flips.append((int(i), label))
            taken[i] = True
    return flips


# --------------------------------------------------------------------------------------------
# The intervention
# --------------------------------------------------------------------------------------------


def known_noise(task: Task, train: Split) -> np.ndarray:
    """Indices of train examples the task itself lists as mislabelled, if it does."""
    ids = task.metadata.get("noisy_train_ids") if task.metadata else None
    if not ids:
        return np.zeros(0, dtype=np.int64)
    position = {case_id: i for i, case_id in enumerate(train.ids)}
    return np.asarray(sorted(position[i] for i in ids if i in position), dtype=np.int64)


class Relabel(Intervention[RelabelArgs]):
    """Flip ``k`` train labels (spec-based rrf/borda, cleanlab, or random) and retrain."""

    name = "relabel"
    description = (
        "flip k train labels by spec similarity (rrf|borda), cleanlab, random or a difficulty "
        "measure (pvi, cartography); retrain"
    )
    Args = RelabelArgs

    def check_model(self, model_class: type[Model], field: str) -> None:
        """A difficulty-measure method must be able to work with the run's model (e.g.
        ``cartography`` needs a model that reports its training epochs)."""
        args: RelabelArgs = self.args
        if args.method not in OWN_METHODS:
            check_measure_model(args.method, model_class, f"{field}.method", "relabel method")

    def label(self) -> str:
        """``relabel-<method>``, with ``-noise<r>`` when noise is injected."""
        args: RelabelArgs = self.args
        suffix = f"-noise{args.inject_noise:g}" if args.inject_noise else ""
        return f"relabel-{args.method}{suffix}"

    def apply(self, ctx: InterventionContext) -> InterventionOutcome:
        """Inject noise (optional), choose flips, retrain, and score the flips."""
        args: RelabelArgs = self.args
        task = ctx.task
        names = task.label_names
        train = task.train
        known = known_noise(task, train)
        injected = np.zeros(0, dtype=np.int64)
        noise_seed = ctx.seed if args.noise_seed is None else args.noise_seed
        if args.inject_noise:
            labels, injected = inject_noise(
                train.labels, args.inject_noise, noise_seed, len(names), exclude=known
            )
            train = train.with_labels(labels)

        def choose() -> dict[str, Any]:
            if args.method in SPEC_METHODS:
                flips, details = spec_flips(ctx, train, args)
            elif args.method == "cleanlab":
                flips, details = cleanlab_flips(ctx, train, args)
            elif args.method == "random":
                quotas = per_label_k(args.k, ctx.specs, names)
                flips, details = random_flips(train, quotas, ctx.seed), {}
            else:
                flips, details = measure_flips(ctx, train, args)
            return {"flips": [[int(i), int(label)] for i, label in flips], "details": details}

        recipe = {
            "step": "relabel-flips",
            "args": args.model_dump(mode="json"),
            "seed": ctx.seed,
            "train": hash_split(train),
            "labels": names,
            "specs": hash_spec_train_cases(ctx.specs),
            "base_model": model_hash(ctx.base_model),
        }
        chosen = ctx.memo(recipe, choose)
        flips = [(int(i), int(label)) for i, label in chosen["flips"]]
        details = chosen["details"]
        new_labels = train.labels.copy()
        for i, label in flips:
            new_labels[i] = label
        split = train.with_labels(new_labels)
        model = ctx.train_model(ctx.new_model(), split, self.label())

        counts = {name: 0 for name in names}
        for _, label in flips:
            counts[names[label]] += 1
        baseline = random_flips(
            train, {names.index(n): c for n, c in counts.items()}, noise_seed + 7919
        )
        flipped = {i for i, _ in flips}
        random_set = {i for i, _ in baseline}
        evaluation: dict[str, Any] = {}
        truths = {"injected": set(injected.tolist()), "known": set(known.tolist())}
        truths["all"] = truths["injected"] | truths["known"]
        for name, noisy in truths.items():
            if noisy:
                evaluation[name] = {
                    **flip_quality(flipped, noisy),
                    "random": flip_quality(random_set, noisy),
                }
        primary = "injected" if len(injected) else ("known" if len(known) else None)
        changes: dict[str, Any] = {
            "method": args.method,
            "k": args.k,
            "n_flipped": len(flips),
            "flips_per_label": counts,
            "flips": [
                {"id": train.ids[i], "from": names[int(train.labels[i])], "to": names[label]}
                for i, label in flips
            ],
            **details,
            "noise": {
                "injected_rate": args.inject_noise,
                "seed": noise_seed if args.inject_noise else None,
                "injected_ids": [train.ids[int(i)] for i in injected],
                "known_noisy": int(len(known)),
                "evaluated_against": primary,
            },
            "evaluation": evaluation,
            "precision_at_k": evaluation[primary]["precision_at_k"] if primary else None,
            "recall": evaluation[primary]["recall"] if primary else None,
            "random_precision_at_k": (
                evaluation[primary]["random"]["precision_at_k"] if primary else None
            ),
        }
        return InterventionOutcome(model=model, changes=changes, train_split=split)


@harness.hookimpl
def register_interventions(register: Register[type[Intervention]]) -> None:
    """Register ``relabel``."""
    register(Relabel)
