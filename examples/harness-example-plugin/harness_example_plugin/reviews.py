"""The ``reviews`` task: small generated product reviews, so a run takes seconds.

Negated sentences ("the kettle is not flimsy") are rare in ``train`` and ``test`` but present in
``pool``, so the negation specs of ``specs/reviews.yaml`` fail on M0 while a spec-guided selection
can find the missing kind in the pool.
"""

from __future__ import annotations

import random

import numpy as np
from pydantic import Field

from harness.api import Split, StrictModel, Task

LABELS = ["negative", "positive"]

PRODUCTS = ["phone", "laptop", "blender", "kettle", "camera", "headset", "toaster", "lamp", "chair"]
GOOD = ["great", "excellent", "reliable", "sturdy", "lovely", "fantastic", "solid", "handy"]
BAD = ["terrible", "flimsy", "useless", "awful", "disappointing", "noisy", "cheap", "broken"]

# (template, label, weight in train/test, weight in pool); {p} product, {g} good, {b} bad
PATTERNS: list[tuple[str, int, float, float]] = [
    ("the {p} is {g}", 1, 4.0, 4.0),
    ("i love this {p}, it is {g}", 1, 3.0, 3.0),
    ("{g} {p}, would buy again", 1, 3.0, 3.0),
    ("really {g} {p}", 1, 2.0, 2.0),
    ("the {p} is {b}", 0, 4.0, 4.0),
    ("i regret buying this {p}, it is {b}", 0, 3.0, 3.0),
    ("{b} {p}, do not buy", 0, 3.0, 3.0),
    ("really {b} {p}", 0, 2.0, 2.0),
    # the rare kind the negation specs are about
    ("the {p} is not {b} at all", 1, 0.1, 1.5),
    ("this {p} is not {g}", 0, 0.1, 1.5),
]


class ReviewsArgs(StrictModel):
    """Arguments of the ``reviews`` task (``--task-args``)."""

    n_train: int = Field(default=300, ge=10)
    n_test: int = Field(default=150, ge=10)
    n_pool: int = Field(default=300, ge=0)
    seed: int = Field(default=7, description="seed of the generated data")


def _generate(n: int, rng: random.Random, pool: bool) -> tuple[list[str], list[int]]:
    weights = [pool_w if pool else w for _, _, w, pool_w in PATTERNS]
    picks = rng.choices(range(len(PATTERNS)), weights=weights, k=n)
    texts = [
        PATTERNS[k][0].format(p=rng.choice(PRODUCTS), g=rng.choice(GOOD), b=rng.choice(BAD))
        for k in picks
    ]
    return texts, [PATTERNS[k][1] for k in picks]


def load_reviews(n_train: int = 300, n_test: int = 150, n_pool: int = 300, seed: int = 7) -> Task:
    """Generate the ``reviews`` task (deterministic for a given ``seed``)."""
    rng = random.Random(seed)
    splits: dict[str, Split] = {}
    for name, size in (("train", n_train), ("test", n_test), ("pool", n_pool)):
        texts, labels = _generate(size, rng, pool=name == "pool")
        ids = [f"{name}-{i}" for i in range(size)]
        splits[name] = Split(ids=ids, texts=texts, labels=np.array(labels, dtype=np.int64))
    return Task(
        name="reviews",
        label_names=list(LABELS),
        train=splits["train"],
        test=splits["test"],
        pool=splits["pool"],
        description="generated product reviews",
    )
