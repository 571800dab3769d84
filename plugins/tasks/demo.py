"""``demo``: a built-in, generated moderation task (toxic / non-toxic, in mild language).

It is written to show the phenomenon the harness exists for. Group mentions occur mostly in toxic
examples (a spurious shortcut); negated insults, counter-speech, neutral group mentions and
misspelled insults are rare; ``train`` carries some label noise. A model trained on ``train`` scores
well on ``test`` yet fails the specs in ``specs/demo.yaml``, whose templates differ from the
sentence patterns used here. The ``pool`` has two named sources: ``general`` has the same
distribution as ``train`` (without noise), so the rare kinds exist there at about 1% each for a
spec-guided selection to find; ``policy`` is a small set of examples annotated against a
moderation policy, written with its own templates and vocabulary
(:mod:`harness_plugins.tasks.demo_policy`), the second kind of candidate data real users hold.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import numpy as np
from pydantic import Field

import harness
from harness.api import Register, Split, StrictModel, Task, TaskDefinition
from harness_plugins.tasks.demo_policy import generate_policy

LABELS = ["non-toxic", "toxic"]

GROUPS = [
    "women",
    "men",
    "immigrants",
    "refugees",
    "muslims",
    "christians",
    "jews",
    "gay people",
    "trans people",
    "disabled people",
    "black people",
    "asian people",
    "old people",
    "teenagers",
    "foreigners",
    "farmers",
]
INSULTS = [
    "idiot",
    "fool",
    "clown",
    "loser",
    "moron",
    "creep",
    "jerk",
    "pest",
    "weirdo",
    "nitwit",
    "dimwit",
    "buffoon",
    "slob",
    "coward",
    "failure",
]
MISSPELLED = [
    "1diot",
    "id1ot",
    "idi0t",
    "m0ron",
    "mor0n",
    "l0ser",
    "los3r",
    "cl0wn",
    "j3rk",
    "cre3p",
    "f00l",
    "w3irdo",
    "c0ward",
    "sl0b",
    "nitw1t",
]
BAD_ADJ = [
    "stupid",
    "pathetic",
    "useless",
    "worthless",
    "disgusting",
    "brainless",
    "clueless",
    "annoying",
    "ridiculous",
    "hopeless",
]
GOOD_ADJ = [
    "lovely",
    "kind",
    "brilliant",
    "friendly",
    "helpful",
    "wonderful",
    "great",
    "clever",
    "funny",
    "generous",
    "patient",
    "thoughtful",
]
NAMES = [
    "Sam",
    "Alex",
    "Jordan",
    "Maria",
    "Chris",
    "Priya",
    "Tom",
    "Lena",
    "Omar",
    "Kim",
    "Dana",
    "Felix",
    "Nora",
    "Ravi",
    "Zoe",
]
FOODS = ["pizza", "soup", "coffee", "pasta", "salad", "cake", "tea", "curry", "bread", "tacos"]
PLACES = [
    "park",
    "library",
    "cafe",
    "beach",
    "market",
    "gym",
    "office",
    "station",
    "museum",
    "cinema",
    "bakery",
    "garden",
]
TOPICS = [
    "the new bus schedule",
    "this policy",
    "the tax plan",
    "the referee's call",
    "the movie ending",
    "the budget",
    "the new app update",
    "the election debate",
    "the school rules",
    "the city plan",
]
THREATS = [
    "i will hurt you",
    "i am going to find you and hurt you",
    "you will regret this, i promise",
    "watch your back tonight",
    "i will make you pay for this",
    "someone should teach you a lesson you won't forget",
    "i will break your stuff",
    "keep talking and see what happens to you",
]
OPENERS = ["", "", "", "honestly, ", "lol ", "ok so ", "wow, ", "seriously, ", "well, ", "omg "]
CLOSERS = ["", "", "", "!", ".", "!!", " lol", " smh", " tbh", "...", " :)", " ugh"]

# (template, label, weight); {g} group, {i} insult, {m} misspelled insult, {b} bad adjective,
# {a} good adjective, {n} name, {f} food, {p} place, {t} topic, {x} threat
PATTERNS: list[tuple[str, int, float]] = [
    # non-toxic, common
    ("the {f} at the {p} was {a}", 0, 6.0),
    ("just got back from the {p}, it was {a}", 0, 5.0),
    ("anyone want to grab {f} near the {p}?", 0, 4.0),
    ("{n} made the best {f} today", 0, 4.0),
    ("you are so {a}, thank you", 0, 4.0),
    ("{n} is really {a} and always helps", 0, 4.0),
    ("i think {t} needs more work", 0, 3.0),
    ("not sure i agree with {t}", 0, 3.0),
    ("what a {a} day at the {p}", 0, 3.0),
    ("meeting {n} at the {p} later", 0, 3.0),
    # non-toxic, rare kinds the specs care about
    ("some of my neighbours are {g}, we had {f} together", 0, 0.6),
    ("there were many {g} at the {p} today", 0, 0.5),
    ("{g} in our town organised a {a} festival", 0, 0.5),
    ("you're not a {i}, you just made a mistake", 0, 0.5),
    ("nobody here thinks {n} is a {i}", 0, 0.4),
    ("calling {g} {i}s is not ok", 0, 0.4),
    ("stop saying {g} are {b}, it is just wrong", 0, 0.4),
    # toxic
    ("you are such a {i}", 1, 5.0),
    ("shut up, you {b} {i}", 1, 4.0),
    ("{n} is a total {i}", 1, 4.0),
    ("what a {b} {i} you are", 1, 3.0),
    ("only a {i} would like {t}", 1, 2.5),
    ("{g} are {b}", 1, 4.0),
    ("{g} are all {i}s", 1, 3.5),
    ("i can't stand {g}, they are {b}", 1, 3.0),
    ("get {g} out of the {p}, they are {i}s", 1, 2.5),
    ("{x}", 1, 2.5),
    ("{n}, {x}", 1, 1.5),
    # toxic, rare: spelling variation
    ("you are such a {m}", 1, 0.5),
    ("{n} is a {m}", 1, 0.4),
]


def _fill(pattern: str, rng: random.Random) -> str:
    values = {
        "g": rng.choice(GROUPS),
        "i": rng.choice(INSULTS),
        "m": rng.choice(MISSPELLED),
        "b": rng.choice(BAD_ADJ),
        "a": rng.choice(GOOD_ADJ),
        "n": rng.choice(NAMES),
        "f": rng.choice(FOODS),
        "p": rng.choice(PLACES),
        "t": rng.choice(TOPICS),
        "x": rng.choice(THREATS),
    }
    body = pattern.format(**values)
    return f"{rng.choice(OPENERS)}{body}{rng.choice(CLOSERS)}"


def generate(n: int, rng: random.Random) -> tuple[list[str], list[int], list[int]]:
    """``n`` generated texts with their labels and pattern indices."""
    weights = [w for _, _, w in PATTERNS]
    picks = rng.choices(range(len(PATTERNS)), weights=weights, k=n)
    texts = [_fill(PATTERNS[k][0], rng) for k in picks]
    labels = [PATTERNS[k][1] for k in picks]
    return texts, labels, picks


def _fresh_rows(
    texts: list[str], labels: list[int], taken: set[str], rng: random.Random
) -> tuple[list[str], list[int]]:
    """``texts`` with every row whose text is in ``taken`` drawn again until it is not (the
    generated pool stands for new data: none of it may repeat a train or test text)."""
    texts, labels = list(texts), list(labels)
    for row, text in enumerate(texts):
        for _ in range(1000):
            if text not in taken:
                break
            (text,), (labels[row],), _ = generate(1, rng)
        texts[row] = text
    return texts, labels


class DemoArgs(StrictModel):
    """Arguments of the ``demo`` task (``--task-args``)."""

    n_train: int = Field(default=3000, ge=10)
    n_test: int = Field(default=1000, ge=10)
    n_pool: int = Field(default=4000, ge=0, description="rows of the general pool source")
    n_policy: int | None = Field(
        default=None,
        ge=0,
        le=5000,
        description="rows of the policy-annotated pool source (default: 300, or 0 when n_pool=0)",
    )
    noise: float = Field(default=0.05, ge=0, lt=0.5, description="share of train labels flipped")
    seed: int = Field(default=13, description="seed of the generated data (not of training)")


DEFAULT_POLICY_ROWS = 300


def load_demo(
    n_train: int = 3000,
    n_test: int = 1000,
    n_pool: int = 4000,
    noise: float = 0.05,
    seed: int = 13,
    n_policy: int | None = None,
) -> Task:
    """Generate the demo task (deterministic for a given ``seed``)."""
    if n_policy is None:
        n_policy = DEFAULT_POLICY_ROWS if n_pool else 0
    rng = random.Random(seed)
    splits: dict[str, Split] = {}
    noisy: list[str] = []
    for name, size in (("train", n_train), ("test", n_test), ("pool", n_pool)):
        texts, labels, _ = generate(size, rng)
        if name == "pool":  # a pool row never repeats a train or test text
            taken = set(splits["train"].texts) | set(splits["test"].texts)
            texts, labels = _fresh_rows(texts, labels, taken, rng)
        ids = [f"{name}-{i}" for i in range(size)]
        y = np.array(labels, dtype=np.int64)
        if name == "train" and noise > 0:
            flip = np.array(rng.sample(range(size), int(round(noise * size))), dtype=np.int64)
            y[flip] = 1 - y[flip]
            noisy = sorted(ids[i] for i in flip)
        splits[name] = Split(ids=ids, texts=texts, labels=y)
    general = splits["pool"]
    general.sources = ["general"] * len(general)
    policy_texts, policy_labels, guidelines = generate_policy(n_policy, seed=seed * 7919 + 1)
    policy = Split(
        ids=[f"policy-{i}" for i in range(len(policy_texts))],
        texts=policy_texts,
        labels=np.array([LABELS.index(y) for y in policy_labels], dtype=np.int64),
        sources=["policy"] * len(policy_texts),
    )
    return Task(
        name="demo",
        label_names=list(LABELS),
        train=splits["train"],
        test=splits["test"],
        pool=general.concat(policy),
        description="generated toxic / non-toxic moderation task with a group-mention shortcut; "
        "pool sources: general (like train) and policy (policy-annotated examples)",
        metadata={
            "noisy_train_ids": noisy,
            "policy_guidelines": dict(zip(policy.ids, guidelines, strict=True)),
        },
    )


@harness.hookimpl
def register_tasks(register: Register[TaskDefinition]) -> None:
    """Register the ``demo`` task."""
    register(
        TaskDefinition(
            name="demo",
            load=load_demo,
            args=DemoArgs,
            description="built-in toxic/non-toxic task (3k train, 1k test; pool sources: "
            "4k general, 300 policy-annotated) with a group-mention shortcut and 5% label noise",
        )
    )


DEMO_RUN: dict[str, Any] = {
    "task": "demo",
    "task_args": {},
    "specs": [{"ref": "demo"}],
    "model": "bow",
    "model_args": {},
    "interventions": [
        {"name": "retrain", "params": {"selection": "random"}},
        {"name": "retrain", "params": {"selection": "tfidf"}},
        {"name": "retrain", "params": {"selection": "tfidf", "sources": ["general"]}},
        {"name": "augment", "params": {}},
        {"name": "patch", "params": {"delta": "auto"}},
        {"name": "patch", "params": {"delta": None}},
        {"name": "relabel", "params": {"method": "rrf"}},
        {"name": "relabel", "params": {"method": "cleanlab"}},
    ],
}
"""The embedded demo (``harness run`` with no arguments), spelled out in ``examples/demo.yaml``:
the demo task, its suite and the fast ``bow`` model, with each intervention next to its
baseline: guided vs random retraining at the same budget (guided from both pool sources and
from the general source alone), training on the specs' own D_i cases (the upper bound),
constrained vs unconstrained patching, spec-based vs confident-learning relabelling."""


@harness.hookimpl
def default_run_config() -> dict[str, Any]:
    """Declare the embedded demo as the default run."""
    return copy.deepcopy(DEMO_RUN)
