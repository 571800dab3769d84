"""Mechanics of the interventions: equal budgets, the patch clamp, D_i_heldout never reaching a
selector or a training set, rank aggregation against hand-computed cases, seeded noise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from harness.api import (
    InterventionContext,
    Model,
    Selector,
    Spec,
    SpecCase,
    Split,
    Task,
)
from harness.config import RunConfig, resolve_config
from harness.errors import UserError
from harness.plugins import load_registries
from harness.validation import validate
from harness_plugins.interventions.augment import Augment, AugmentArgs
from harness_plugins.interventions.patch import Patch, PatchArgs, ball_bounds, resolve_delta
from harness_plugins.interventions.relabel import (
    Relabel,
    RelabelArgs,
    borda_scores,
    flip_quality,
    inject_noise,
    per_label_k,
    random_flips,
    rank_matrix,
    rrf_scores,
    top_candidates,
)
from harness_plugins.interventions.retrain import Retrain, RetrainArgs
from harness_plugins.models.bow import BowArgs, BowModel

LABELS = ["ok", "bad"]
ROOT = Path(__file__).resolve().parents[1]
FAST_BOW = {"buckets": 512, "dim": 8, "hidden": 8, "epochs": 2}


def spec(spec_id: str, label: str, train: list[str], heldout: list[str]) -> Spec:
    """A spec with literal D_i / D_i_heldout cases (ids say which)."""
    return Spec(
        id=spec_id,
        description=spec_id,
        label=label,
        train_cases=[
            SpecCase(id=f"{spec_id}/train/{i}", text=t, spec_id=spec_id, split="train")
            for i, t in enumerate(train)
        ],
        heldout_cases=[
            SpecCase(id=f"{spec_id}/heldout/{i}", text=t, spec_id=spec_id, split="heldout")
            for i, t in enumerate(heldout)
        ],
    )


SPECS = [
    spec(
        "negation",
        "ok",
        ["you are not an idiot", "nobody says you are a fool"],
        ["heldout negation quokka", "heldout negation axolotl"],
    ),
    spec(
        "threat",
        "bad",
        ["i will hurt you", "watch your back"],
        ["heldout threat narwhal", "heldout threat pangolin"],
    ),
]
HELDOUT_IDS = {c.id for s in SPECS for c in s.heldout_cases}
HELDOUT_TEXTS = {c.text for s in SPECS for c in s.heldout_cases}
TRAIN_CASE_IDS = {c.id for s in SPECS for c in s.train_cases}

SENTENCES = [
    ("you are an idiot", 1),
    ("what a fool you are", 1),
    ("i will hurt you tonight", 1),
    ("you are not an idiot at all", 0),
    ("the soup was lovely", 0),
    ("see you at the park", 0),
    ("thanks for the help", 0),
]


def split(name: str, n: int, seed: int) -> Split:
    """``n`` generated examples with ids ``name-i``."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(SENTENCES), size=n)
    return Split(
        ids=[f"{name}-{i}" for i in range(n)],
        texts=[f"{SENTENCES[p][0]} {name}{i % 7}" for i, p in enumerate(picks)],
        labels=np.array([SENTENCES[p][1] for p in picks]),
    )


def make_task(noisy: list[str] | None = None) -> Task:
    """A tiny two-label task."""
    return Task(
        name="tiny",
        label_names=list(LABELS),
        train=split("train", 80, 0),
        test=split("test", 30, 1),
        pool=split("pool", 60, 2),
        metadata={"noisy_train_ids": noisy or []},
    )


class Recorder:
    """Records every split a context trains on (ids), and trains with bow."""

    def __init__(self) -> None:
        self.splits: list[Split] = []

    def train(self, model: Model, data: Split, purpose: str) -> Model:
        """Fit ``model`` on ``data`` (seed 0) and remember the ids."""
        self.splits.append(data)
        model.fit(data.texts, data.labels, 0)
        return model


class SpyingSelectors:
    """``ctx.selectors``: real registered selectors whose queries are recorded."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, name: str, args: dict[str, Any]) -> Selector:
        cls = load_registries().selectors.get(name)
        inner = cls(validate(cls.Args, args))
        outer = self

        class Spy(Selector):
            def top_k(self, pool_texts, queries, k, seed, model=None):  # type: ignore[no-untyped-def]
                for group in queries:
                    outer.queries.extend(group)
                return inner.top_k(pool_texts, queries, k, seed, model)

        return Spy(inner.args)


def make_ctx(task: Task | None = None, seed: int = 0, budget: int = 20) -> InterventionContext:
    """A context with a trained tiny bow M0, a recording trainer and spying selectors."""
    task = task or make_task()
    args = BowArgs(**FAST_BOW)

    def new_model() -> Model:
        return BowModel(args, len(task.label_names))

    base = new_model()
    base.fit(task.train.texts, task.train.labels, seed)
    recorder = Recorder()
    selectors = SpyingSelectors()
    ctx = InterventionContext(
        task=task,
        specs=SPECS,
        seed=seed,
        base_model=base,
        new_model=new_model,
        train_model=recorder.train,
        selectors=selectors,
        budget=budget,
        device="cpu",
    )
    ctx.recorder = recorder  # type: ignore[attr-defined]
    ctx.spy = selectors  # type: ignore[attr-defined]
    return ctx


def assert_no_heldout(ctx: InterventionContext) -> None:
    """No held-out case reached a selector or a training split (by id and by text)."""
    recorder: Recorder = ctx.recorder  # type: ignore[attr-defined]
    spy: SpyingSelectors = ctx.spy  # type: ignore[attr-defined]
    for data in recorder.splits:
        assert not set(data.ids) & HELDOUT_IDS
        assert not set(data.texts) & HELDOUT_TEXTS
    assert not set(spy.queries) & HELDOUT_TEXTS


# --------------------------------------------------------------------------------------------
# retrain
# --------------------------------------------------------------------------------------------


def test_retrain_guided_and_random_use_the_same_budget() -> None:
    ctx = make_ctx(budget=20)
    outcomes = {}
    for name in ("random", "tfidf", "bm25", "dsir"):
        outcome = Retrain(RetrainArgs(selection=name)).apply(ctx)
        outcomes[name] = outcome
        changes = outcome.changes
        assert changes["n_selected"] == 20 == len(changes["added_ids"])
        assert set(changes["added_ids"]) <= set(ctx.task.pool.ids)
        assert outcome.train_split is not None
        assert outcome.train_split.ids == ctx.task.train.ids + sorted(
            changes["added_ids"], key=lambda i: int(i.split("-")[1])
        )
        assert set(changes["coverage"]) == {s.id for s in SPECS}
    assert outcomes["random"].changes["added_ids"] != outcomes["tfidf"].changes["added_ids"]
    assert all(len(s) == len(ctx.task.train) + 20 for s in ctx.recorder.splits)  # type: ignore[attr-defined]
    assert_no_heldout(ctx)
    assert set(ctx.spy.queries) == {c.text for s in SPECS for c in s.train_cases}  # type: ignore[attr-defined]


def test_retrain_budget_param_overrides_the_run_budget_and_labels() -> None:
    ctx = make_ctx(budget=20)
    outcome = Retrain(RetrainArgs(selection="tfidf", budget=7, labels="agree")).apply(ctx)
    assert outcome.changes["n_selected"] == 7
    assert Retrain(RetrainArgs(selection="tfidf")).label() == "retrain-tfidf"
    assert Retrain(RetrainArgs()).label() == "retrain-random"
    both = RetrainArgs(selection="bm25", labels="agree", stratify="pool")
    assert Retrain(both).label() == "retrain-bm25-agree-stratified"


def test_retrain_rejects_an_unknown_selector_at_validation() -> None:
    with pytest.raises(UserError, match="tfidff"):
        validate(RetrainArgs, {"selection": "tfidff"}, prefix="interventions[0].params.")


# --------------------------------------------------------------------------------------------
# patch
# --------------------------------------------------------------------------------------------


def test_ball_bounds_never_exceed_delta_in_float64() -> None:
    theta = torch.tensor([0.0, 1.0, -3.3, 1234.5678, 1e-8, 7.1e5], dtype=torch.float32)
    for delta in (5e-4, 1e-3, 0.01, 0.3):
        low, high = ball_bounds(theta, delta)
        assert ((theta.double() - low.double()) <= delta).all()
        assert ((high.double() - theta.double()) <= delta).all()
        assert (low <= theta).all() and (theta <= high).all()


def test_patch_clamps_every_weight_within_delta() -> None:
    ctx = make_ctx()
    delta = 2e-3
    before = {k: v.clone() for k, v in ctx.base_model.module.state_dict().items()}  # type: ignore[attr-defined]
    outcome = Patch(PatchArgs(delta=delta, lr=0.05, epochs=5, batch_size=2)).apply(ctx)
    patched = outcome.model
    assert patched is not None and patched is not ctx.base_model
    assert outcome.changes["max_abs_delta"] <= delta
    assert outcome.changes["max_abs_delta"] > delta / 2  # the constraint was binding
    for name, value in patched.module.state_dict().items():  # type: ignore[attr-defined]
        moved = (value.double() - before[name].double()).abs().max().item()
        assert moved <= delta, name
    # M0 itself is untouched
    for name, value in ctx.base_model.module.state_dict().items():  # type: ignore[attr-defined]
        assert torch.equal(value, before[name])
    assert set(outcome.changes["spec_case_ids"]) == TRAIN_CASE_IDS
    assert not set(outcome.changes["spec_case_ids"]) & HELDOUT_IDS


def test_unconstrained_patch_moves_further_and_head_only_tunes_the_head() -> None:
    ctx = make_ctx()
    free = Patch(PatchArgs(delta=None, lr=0.05, epochs=5, batch_size=2)).apply(ctx)
    assert free.changes["constrained"] is False
    assert free.changes["max_abs_delta"] > 2e-3
    head = Patch(PatchArgs(delta=1e-3, params="head", lr=0.05, steps=3)).apply(ctx)
    assert head.changes["steps"] == 3
    assert head.changes["tuned_parameters"] == ["head.weight", "head.bias"]
    base = ctx.base_model.module.state_dict()  # type: ignore[attr-defined]
    for name, value in head.model.module.state_dict().items():  # type: ignore[union-attr]
        if not name.startswith("head."):
            assert torch.equal(value, base[name])


def test_patch_mixin_replays_train_examples() -> None:
    ctx = make_ctx()
    outcome = Patch(PatchArgs(replay=10, steps=2)).apply(ctx)
    assert len(outcome.changes["replay_ids"]) == 10
    assert set(outcome.changes["replay_ids"]) <= set(ctx.task.train.ids)
    assert Patch(PatchArgs(replay=10)).label() == "patch-mixin"
    assert Patch(PatchArgs(delta=None)).label() == "patch-unconstrained"
    assert Patch(PatchArgs()).label() == "patch"
    assert Patch(PatchArgs(delta=0.005)).label() == "patch-d0.005"


def test_patch_defaults_and_errors() -> None:
    bow = BowModel(BowArgs(**FAST_BOW), 2)
    assert resolve_delta("auto", bow) == 0.02
    assert resolve_delta(None, bow) is None
    assert resolve_delta(0.2, bow) == 0.2
    with pytest.raises(UserError, match="matches no parameter"):
        Patch(PatchArgs(params="^nothing$")).apply(make_ctx())
    with pytest.raises(UserError, match="delta"):
        validate(PatchArgs, {"delta": -1.0})


def test_patch_skips_models_without_torch_parameters() -> None:
    ctx = make_ctx()
    ctx.base_model = NumpyModel(NumpyModel.Args(), 2)
    outcome = Patch(PatchArgs()).apply(ctx)
    assert outcome.model is None
    assert outcome.skipped is not None and "TorchModel" in outcome.skipped


class NumpyModel(Model):
    """A non-torch model (like the sklearn one): cannot be patched."""

    name = "numpy"

    def fit(self, texts: Any, labels: Any, seed: int, progress: Any = None) -> None:
        """Nothing to fit."""

    def predict_proba(self, texts: Any, progress: Any = None) -> np.ndarray:
        """Uniform probabilities."""
        return np.full((len(texts), 2), 0.5)

    def save(self, directory: Any) -> None:
        """Nothing to save."""

    def load(self, directory: Any) -> None:
        """Nothing to load."""


# --------------------------------------------------------------------------------------------
# relabel: aggregation by hand
# --------------------------------------------------------------------------------------------


def test_rank_matrix_rrf_and_borda_by_hand() -> None:
    # two specs rank four train examples: spec A: 2, 0, 1, 3; spec B: 0, 3, 2, 1
    ranks = rank_matrix([np.array([2, 0, 1, 3]), np.array([0, 3, 2, 1])], 4)
    assert ranks.tolist() == [[2, 1], [3, 4], [1, 3], [4, 2]]
    rrf = rrf_scores(ranks, k=60)
    expected = [1 / 62 + 1 / 61, 1 / 63 + 1 / 64, 1 / 61 + 1 / 63, 1 / 64 + 1 / 62]
    assert rrf == pytest.approx(expected)
    assert np.argsort(-rrf, kind="stable").tolist() == [0, 2, 3, 1]
    assert borda_scores(ranks).tolist() == [2 + 3, 1 + 0, 3 + 1, 0 + 2]
    # with k = 0, RRF is the sum of reciprocal ranks
    assert rrf_scores(ranks, k=0) == pytest.approx([1 / 2 + 1, 1 / 3 + 1 / 4, 1 + 1 / 3, 0.75])
    # an item missing from an ordering gets rank n
    assert rank_matrix([np.array([1])], 3).tolist() == [[3], [1], [3]]


def test_rrf_and_borda_can_disagree() -> None:
    # four examples, three specs: example 0 is first for one spec and third for two; example 1
    # is second for all three
    ranks = rank_matrix([np.array([0, 1, 2, 3]), np.array([2, 1, 0, 3]), np.array([3, 1, 0, 2])], 4)
    assert ranks.tolist() == [[1, 3, 3], [2, 2, 2], [3, 1, 4], [4, 4, 1]]
    assert rrf_scores(ranks, k=0) == pytest.approx([1 + 2 / 3, 1.5, 1 / 3 + 1 + 1 / 4, 1.5])
    assert borda_scores(ranks).tolist() == [5, 6, 4, 3]
    assert np.argmax(rrf_scores(ranks, k=0)) == 0
    assert np.argmax(borda_scores(ranks)) == 1


def test_top_candidates_drops_ineligible_and_breaks_ties_by_index() -> None:
    scores = np.array([0.5, 0.9, 0.9, 0.1, 0.7])
    eligible = np.array([True, False, True, True, True])
    assert top_candidates(scores, eligible, 3).tolist() == [2, 4, 0]
    assert top_candidates(np.array([1.0, 1.0, 1.0]), np.ones(3, bool), 2).tolist() == [0, 1]


def test_per_label_k_and_flip_quality() -> None:
    assert per_label_k(10, SPECS, LABELS) == {0: 5, 1: 5}
    assert per_label_k(3, SPECS[:1], LABELS) == {0: 3, 1: 0}
    quality = flip_quality({1, 2, 3, 4}, {2, 4, 9})
    assert quality["precision_at_k"] == 0.5
    assert quality["recall"] == pytest.approx(2 / 3, abs=1e-6)


# --------------------------------------------------------------------------------------------
# relabel: noise and the intervention
# --------------------------------------------------------------------------------------------


def test_noise_injection_is_reproducible_by_seed() -> None:
    labels = np.array([0, 1] * 50)
    a, flipped_a = inject_noise(labels, 0.1, seed=4, num_labels=2)
    b, flipped_b = inject_noise(labels, 0.1, seed=4, num_labels=2)
    c, flipped_c = inject_noise(labels, 0.1, seed=5, num_labels=2)
    assert flipped_a.tolist() == flipped_b.tolist() and a.tolist() == b.tolist()
    assert flipped_a.tolist() != flipped_c.tolist()
    assert len(flipped_a) == 10
    assert (a[flipped_a] != labels[flipped_a]).all()
    assert (np.delete(a, flipped_a) == np.delete(labels, flipped_a)).all()
    _, excluded = inject_noise(labels, 0.5, seed=4, num_labels=2, exclude=np.arange(60))
    assert excluded.min() >= 60 and len(excluded) == 40
    three, flipped3 = inject_noise(np.zeros(30, dtype=np.int64), 0.5, 1, num_labels=3)
    assert set(three[flipped3].tolist()) <= {1, 2}


def test_random_flips_are_seeded_and_respect_quotas() -> None:
    train = split("train", 50, 0)
    flips = random_flips(train, {0: 3, 1: 4}, seed=2)
    assert flips == random_flips(train, {0: 3, 1: 4}, seed=2)
    assert sum(1 for _, label in flips if label == 0) == 3
    assert all(train.labels[i] != label for i, label in flips)


@pytest.mark.parametrize("method", ["rrf", "borda", "random", "cleanlab"])
def test_relabel_flips_k_labels_and_scores_them(method: str) -> None:
    task = make_task(noisy=["train-3", "train-5"])
    ctx = make_ctx(task)
    outcome = Relabel(RelabelArgs(method=method, k=6, inject_noise=0.1, noise_seed=11)).apply(ctx)
    changes = outcome.changes
    assert changes["n_flipped"] == 6 == len(changes["flips"])
    assert len({f["id"] for f in changes["flips"]}) == 6
    assert all(f["from"] != f["to"] for f in changes["flips"])
    assert changes["noise"]["injected_ids"] and changes["noise"]["seed"] == 11
    assert not {"train-3", "train-5"} & set(changes["noise"]["injected_ids"])
    assert changes["noise"]["evaluated_against"] == "injected"
    assert set(changes["evaluation"]) == {"injected", "known", "all"}
    assert 0 <= changes["precision_at_k"] <= 1
    assert changes["random_precision_at_k"] is not None
    split_ = outcome.train_split
    assert split_ is not None and split_.ids == task.train.ids
    flipped = {f["id"]: f["to"] for f in changes["flips"]}
    for case_id, label in zip(split_.ids, split_.labels, strict=True):
        if case_id in flipped:
            assert LABELS[label] == flipped[case_id]
    assert_no_heldout(ctx)
    again = Relabel(RelabelArgs(method=method, k=6, inject_noise=0.1, noise_seed=11)).apply(ctx)
    assert again.changes["noise"]["injected_ids"] == changes["noise"]["injected_ids"]
    assert again.changes["flips"] == changes["flips"]


def test_spec_relabel_flips_towards_each_spec_label() -> None:
    ctx = make_ctx()
    outcome = Relabel(RelabelArgs(method="rrf", k=4)).apply(ctx)
    assert outcome.changes["flips_per_label"] == {"ok": 2, "bad": 2}
    texts = dict(zip(ctx.task.train.ids, ctx.task.train.texts, strict=True))
    to_ok = [texts[f["id"]] for f in outcome.changes["flips"] if f["to"] == "ok"]
    assert all("idiot" in t or "fool" in t for t in to_ok)  # nearest to the negation spec
    assert outcome.changes["precision_at_k"] is None  # no noise known: nothing to score
    labels = {(Relabel(RelabelArgs(method=m)).label()) for m in ("rrf", "cleanlab", "random")}
    assert labels == {"relabel-rrf", "relabel-cleanlab", "relabel-random"}


def test_cleanlab_absent_is_a_clear_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "cleanlab" else real(name)
    )
    with pytest.raises(UserError, match="needs the optional package cleanlab"):
        validate(RelabelArgs, {"method": "cleanlab"}, prefix="interventions[0].params.")


# --------------------------------------------------------------------------------------------
# augment
# --------------------------------------------------------------------------------------------

AUG_SPECS = [
    spec(
        "negation",
        "ok",
        [f"you are not an idiot number {i}" for i in range(5)],
        ["heldout negation quokka", "heldout negation axolotl"],
    ),
    spec(
        "threat",
        "bad",
        [f"i will hurt you at {i}" for i in range(3)],
        ["heldout threat narwhal", "heldout threat pangolin"],
    ),
    spec("heldout-only", "bad", [], ["heldout only wombat"]),
]
AUG_HELDOUT = {c.text for s in AUG_SPECS for c in s.heldout_cases}


def augment_ctx(seed: int = 0, budget: int = 20) -> InterventionContext:
    """``make_ctx`` with specs of 5, 3 and 0 D_i cases."""
    ctx = make_ctx(seed=seed, budget=budget)
    ctx.specs = AUG_SPECS
    return ctx


def apply_augment(ctx: InterventionContext, **params: Any) -> dict[str, Any]:
    """Apply ``augment`` with ``params``; check what reached training; return ``changes``."""
    args = validate(AugmentArgs, params)
    Augment(args).check_plan(ctx.task, ctx.specs, "interventions (augment).params", ctx.budget)
    outcome = Augment(args).apply(ctx)
    changes = outcome.changes
    trained = ctx.recorder.splits[-1]  # type: ignore[attr-defined]
    assert outcome.train_split is trained
    assert trained.ids[: len(ctx.task.train)] == ctx.task.train.ids
    added = dict(
        zip(trained.ids[len(ctx.task.train) :], trained.labels[len(ctx.task.train) :], strict=True)
    )
    assert list(added) == changes["added_ids"]
    cases = {c.id: (s, c) for s in AUG_SPECS for c in s.train_cases}
    for case_id, label in added.items():  # only D_i cases, each with its spec's label
        owner, case = cases[case_id]
        assert LABELS[label] == owner.label
    assert not set(trained.texts) & AUG_HELDOUT
    assert sum(changes["spec_counts"].values()) == changes["n_added"] == len(added)
    assert changes["source_counts"] == {"D_i": len(added)}
    assert changes["source_label_counts"] == {"D_i": changes["label_counts"]}
    assert (trained.sources or [])[len(ctx.task.train) :] == ["D_i"] * len(added)
    return changes


def test_augment_all_cases() -> None:
    ctx = augment_ctx()
    changes = apply_augment(ctx)
    assert changes["mode"] == "all" and changes["n_available"] == changes["n_added"] == 8
    assert changes["spec_counts"] == {"negation": 5, "threat": 3, "heldout-only": 0}
    assert changes["label_counts"] == {"ok": 5, "bad": 3}
    assert Augment(AugmentArgs()).label() == "augment"
    assert Augment(AugmentArgs()).budget_spent(600) is None


def test_augment_per_spec_is_a_seeded_sample() -> None:
    first = apply_augment(augment_ctx(seed=0), per_spec=2)
    assert first["mode"] == "per_spec"
    assert first["spec_counts"] == {"negation": 2, "threat": 2, "heldout-only": 0}
    assert apply_augment(augment_ctx(seed=0), per_spec=2)["added_ids"] == first["added_ids"]
    others = {tuple(apply_augment(augment_ctx(seed=s), per_spec=2)["added_ids"]) for s in (1, 2)}
    assert others != {tuple(first["added_ids"])}  # another seed, another sample
    assert apply_augment(augment_ctx(), per_spec=10)["n_added"] == 8  # capped by D_i
    assert Augment(AugmentArgs(per_spec=2)).label() == "augment-2-per-spec"


def test_augment_budget_spreads_over_specs_and_reports_a_shortfall() -> None:
    changes = apply_augment(augment_ctx(), budget=5)
    assert changes["mode"] == "budget" and changes["budget"] == 5 and changes["n_added"] == 5
    assert changes["spec_counts"] == {"negation": 3, "threat": 2, "heldout-only": 0}
    assert changes["shortfall"] == 0
    short = apply_augment(augment_ctx(), budget=20)
    assert short["n_added"] == 8 and short["shortfall"] == 12
    run_budget = apply_augment(augment_ctx(budget=4), budget="run")
    assert run_budget["budget"] == 4 and run_budget["n_added"] == 4
    assert Augment(AugmentArgs(budget="run")).budget_spent(600) == 600
    assert Augment(AugmentArgs(budget=7)).budget_spent(600) == 7
    assert Augment(AugmentArgs(budget=7)).label() == "augment-7"
    assert Augment(AugmentArgs(budget="run")).label() == "augment-budget"


def test_augment_spec_subset() -> None:
    changes = apply_augment(augment_ctx(), specs=["threat"])
    assert changes["specs"] == ["threat"] and changes["spec_counts"] == {"threat": 3}
    assert changes["label_counts"] == {"ok": 0, "bad": 3}
    assert Augment(AugmentArgs(specs=["threat", "negation"])).label() == ("augment-threat+negation")
    assert validate(AugmentArgs, {"specs": "threat|negation"}).specs == ["threat", "negation"]


def test_augment_bad_arguments_and_empty_d_i() -> None:
    ctx = augment_ctx()
    field = "interventions (augment).params"
    with pytest.raises(UserError, match="per_spec or budget, not both"):
        validate(AugmentArgs, {"per_spec": 1, "budget": 2})
    with pytest.raises(UserError, match="budget must be >= 1"):
        validate(AugmentArgs, {"budget": 0})
    with pytest.raises(UserError, match="unknown spec id 'thret'.*did you mean 'threat'"):
        Augment(AugmentArgs(specs=["thret"])).check_plan(ctx.task, ctx.specs, field, 20)
    with pytest.raises(UserError, match="the chosen specs have none") as err:
        Augment(AugmentArgs(specs=["heldout-only"])).check_plan(ctx.task, ctx.specs, field, 20)
    assert err.value.field == f"{field}.specs"
    with pytest.raises(UserError, match="the run's 1 spec"):
        Augment(AugmentArgs()).check_plan(ctx.task, AUG_SPECS[2:], field, 20)


# --------------------------------------------------------------------------------------------
# no intervention ever trains on (or selects with) a held-out case
# --------------------------------------------------------------------------------------------

EVERY_INTERVENTION = [
    ("retrain", {"selection": "random"}),
    ("retrain", {"selection": "tfidf", "labels": "agree", "stratify": "pool"}),
    ("retrain", {"selection": "bm25", "sources": ["policy"]}),
    ("augment", {}),
    ("augment", {"per_spec": 1}),
    ("augment", {"budget": 3}),
    ("augment", {"specs": ["threat"]}),
    ("patch", {"delta": 0.01, "epochs": 1}),
    ("patch", {"delta": None, "epochs": 1, "replay": 5}),
    ("relabel", {"method": "rrf", "k": 4}),
    ("relabel", {"method": "random", "k": 4, "inject_noise": 0.1}),
]


def test_every_builtin_intervention_is_spied_on() -> None:
    builtin = {
        name
        for name in load_registries().interventions.names()
        if load_registries().interventions.get(name).__module__.startswith("harness_plugins.")
    }
    assert builtin == {name for name, _ in EVERY_INTERVENTION}


class SpyBow(BowModel):
    """A bow model that records every text it is trained on: through ``fit``, and through
    ``logits`` with gradients on (fine-tuning, as ``patch`` does)."""

    trained_on: list[str] = []

    def fit(self, texts, labels, seed, progress=None):  # type: ignore[no-untyped-def]
        SpyBow.trained_on.extend(texts)
        return super().fit(texts, labels, seed, progress)

    def logits(self, texts):  # type: ignore[no-untyped-def]
        if torch.is_grad_enabled():
            SpyBow.trained_on.extend(texts)
        return super().logits(texts)


@pytest.mark.parametrize(("name", "params"), EVERY_INTERVENTION)
def test_no_intervention_trains_on_heldout_cases(name: str, params: dict[str, Any]) -> None:
    task = make_task(noisy=["train-3"])
    sources = ["general"] * 40 + ["policy"] * 20
    task.pool = Split(task.pool.ids, task.pool.texts, task.pool.labels, sources=sources)
    ctx = make_ctx(task, budget=10)
    args = BowArgs(**FAST_BOW)
    ctx.new_model = lambda: SpyBow(args, len(task.label_names))
    ctx.base_model = SpyBow(args, len(task.label_names))
    ctx.base_model.fit(task.train.texts, task.train.labels, 0)
    SpyBow.trained_on = []
    cls = load_registries().interventions.get(name)
    instance = cls(validate(cls.Args, params))
    instance.check_plan(task, ctx.specs, f"interventions ({name}).params", 10)
    outcome = instance.apply(ctx)
    assert outcome.model is not None and SpyBow.trained_on  # it did train something
    assert not set(SpyBow.trained_on) & HELDOUT_TEXTS
    if outcome.train_split is not None:
        ctx.recorder.splits.append(outcome.train_split)  # type: ignore[attr-defined]
    assert_no_heldout(ctx)
    if "sources" in params:
        assert outcome.changes["source_counts"] == {"general": 0, "policy": 10}
        assert all(i in task.pool.ids[40:] for i in outcome.changes["added_ids"])


# --------------------------------------------------------------------------------------------
# config and registry
# --------------------------------------------------------------------------------------------


def test_builtin_interventions_are_registered() -> None:
    assert {"retrain", "augment", "patch", "relabel"} <= set(
        load_registries().interventions.names()
    )


DEMO_ROWS = [
    "retrain-random",
    "retrain-tfidf",
    "retrain-tfidf-general",
    "augment",
    "patch",
    "patch-unconstrained",
    "relabel-rrf",
    "relabel-cleanlab",
]
"""The rows of the demo's interventions, in config order."""


def test_demo_yaml_is_the_default_config() -> None:
    from_file = resolve_config(ROOT / "examples" / "demo.yaml")
    assert from_file.model_dump() == RunConfig().model_dump()
    labels = []
    for item in from_file.interventions:
        cls = load_registries().interventions.get(item.name)
        labels.append(cls(validate(cls.Args, item.params)).label())
    assert labels == DEMO_ROWS


def test_demo_interventions_run_end_to_end(tmp_path: Path) -> None:
    from harness.plan import plan_run
    from harness.results import read_result
    from harness.runner import Runner

    config = RunConfig(
        task_args={"n_train": 300, "n_test": 100, "n_pool": 300},
        model_args=FAST_BOW,
        budget=40,
        output_dir=str(tmp_path),
    )
    for item in config.interventions:
        if item.name == "relabel":
            item.params["k"] = 10
    runner = Runner(plan_run(config))
    result = runner.run()
    rows = {m.id: m for m in result.models}
    assert list(rows) == ["M0", *DEMO_ROWS]
    for row in rows.values():
        assert row.skipped is None and row.aggregate.accuracy is not None
    seed = {k: m.seeds[0].changes for k, m in rows.items()}
    assert seed["retrain-random"]["n_selected"] == seed["retrain-tfidf"]["n_selected"] == 40
    assert seed["patch"]["max_abs_delta"] <= seed["patch"]["delta"] == 0.02
    assert seed["relabel-rrf"]["n_flipped"] == seed["relabel-cleanlab"]["n_flipped"] == 10
    assert seed["relabel-rrf"]["precision_at_k"] is not None  # the demo lists its noisy ids
    stored = read_result(runner.run_dir)
    assert stored.models[2].seeds[0].changes["coverage"].keys() == {s.id for s in result.specs}
    general = seed["retrain-tfidf-general"]
    assert general["n_selected"] == 40 and general["source_counts"]["policy"] == 0
    assert seed["augment"]["n_added"] == sum(s.n_train_cases for s in result.specs)
    assert stored.task.pool_sources == {"general": 300, "policy": 300}
