"""Selectors and the selection mechanics: round-robin, budget, label filter, stratification,
coverage, chunking, and D_i_heldout never reaching a selector."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from harness.api import Model, QueryGroups, Rankings, Selector, Spec, SpecCase, Split, Texts
from harness.errors import UserError
from harness.plugins import load_registries
from harness_plugins.interventions.selection import (
    largest_remainder,
    round_robin,
    select,
    spec_queries,
)
from harness_plugins.selectors.bm25 import Bm25Selector, bm25_weights
from harness_plugins.selectors.common import top_k_by_group
from harness_plugins.selectors.dsir import DsirSelector
from harness_plugins.selectors.embedding import EmbeddingSelector
from harness_plugins.selectors.tfidf import TfidfSelector

LABELS = ["ok", "bad"]


def make_selector(name: str, **args: Any) -> Selector:
    """A registered selector with validated args."""
    cls = load_registries().selectors.get(name)
    return cls(cls.Args(**args))


def make_spec(spec_id: str, label: str, train: list[str], heldout: list[str]) -> Spec:
    """A spec with literal D_i and D_i_heldout cases."""
    return Spec(
        id=spec_id,
        description=spec_id,
        label=label,
        train_cases=[
            SpecCase(id=f"{spec_id}-t{i}", text=t, spec_id=spec_id, split="train")
            for i, t in enumerate(train)
        ],
        heldout_cases=[
            SpecCase(id=f"{spec_id}-h{i}", text=t, spec_id=spec_id, split="heldout")
            for i, t in enumerate(heldout)
        ],
    )


SPECS = [
    make_spec("praise", "ok", ["you are so kind", "what a lovely friend"], ["held praise zebra"]),
    make_spec("threat", "bad", ["i will hurt you", "watch your back"], ["held threat walrus"]),
    make_spec("insult", "bad", ["you are an idiot", "what a fool"], ["held insult yak"]),
]


def make_pool(n: int = 60, seed: int = 0) -> Split:
    """A small labelled pool whose texts resemble the specs in different amounts."""
    rng = np.random.default_rng(seed)
    bits = [
        ("you are so kind and lovely", 0),
        ("i will hurt you tonight", 1),
        ("you are an idiot and a fool", 1),
        ("the weather is fine today", 0),
        ("watch your back friend", 1),
        ("what a lovely day at the park", 0),
        ("you are a kind idiot", 0),
    ]
    texts, labels = [], []
    for i in range(n):
        text, label = bits[int(rng.integers(len(bits)))]
        texts.append(f"{text} {i}")
        labels.append(label)
    return Split(ids=[f"pool-{i}" for i in range(n)], texts=texts, labels=np.array(labels))


class SpySelector(Selector):
    """Wraps a selector and records every query text it is given."""

    name = "spy"

    def __init__(self, inner: Selector) -> None:
        super().__init__(inner.args)
        self.inner = inner
        self.seen: list[str] = []

    def top_k(
        self, pool_texts: Texts, queries: QueryGroups, k: int, seed: int, model: Model | None = None
    ) -> Rankings:
        """Record the queries, then delegate."""
        for group in queries:
            self.seen.extend(group)
        return self.inner.top_k(pool_texts, queries, k, seed, model)


# --------------------------------------------------------------------------------------------
# Pure mechanics
# --------------------------------------------------------------------------------------------


def test_round_robin_takes_turns_and_skips_duplicates() -> None:
    candidates = [
        (np.array([0, 1, 2]), np.array([0.9, 0.8, 0.7])),
        (np.array([0, 3, 4]), np.array([0.95, 0.5, 0.4])),
    ]
    taken = round_robin(candidates, 4)
    assert [(g, i) for g, i, _ in taken] == [(0, 0), (1, 3), (0, 1), (1, 4)]
    assert [s for _, _, s in taken] == [0.9, 0.5, 0.8, 0.4]


def test_round_robin_stops_at_budget_and_when_exhausted() -> None:
    candidates = [(np.array([5]), np.array([1.0])), (np.array([5, 6, 7]), np.array([1, 1, 1.0]))]
    assert [i for _, i, _ in round_robin(candidates, 2)] == [5, 6]
    assert [i for _, i, _ in round_robin(candidates, 10)] == [5, 6, 7]
    assert round_robin(candidates, 0) == []


def test_largest_remainder_sums_exactly() -> None:
    assert largest_remainder(10, {0: 1.0, 1: 1.0, 2: 1.0}) == {0: 4, 1: 3, 2: 3}
    assert largest_remainder(7, {0: 3.0, 1: 1.0}) == {0: 5, 1: 2}
    assert sum(largest_remainder(601, {0: 0.37, 1: 0.63}).values()) == 601
    assert largest_remainder(5, {0: 0.0, 1: 0.0}) == {0: 0, 1: 0}


def test_top_k_by_group_chunked_equals_full() -> None:
    rng = np.random.default_rng(1)
    full = rng.normal(size=(53, 3))
    full[7, 0] = full[8, 0] = 9.0  # a tie: the lower index comes first

    def score(start: int, end: int) -> np.ndarray:
        return full[start:end]

    one = top_k_by_group(53, 3, 10, score, chunk=53)
    small = top_k_by_group(53, 3, 10, score, chunk=4)
    for (a, sa), (b, sb), g in zip(one, small, range(3), strict=True):
        assert a.tolist() == b.tolist()
        assert np.allclose(sa, sb)
        assert a.tolist() == np.lexsort((np.arange(53), -full[:, g]))[:10].tolist()
    assert one[0][0][:2].tolist() == [7, 8]


# --------------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------------


def test_builtin_selectors_are_registered() -> None:
    names = set(load_registries().selectors.names())
    assert {"random", "tfidf", "bm25", "embedding", "dsir"} <= names


@pytest.mark.parametrize("name", ["random", "tfidf", "bm25", "dsir"])
def test_selector_contract(name: str) -> None:
    pool = make_pool()
    selector = make_selector(name)
    queries = spec_queries(SPECS)
    ranked = selector.top_k(pool.texts, queries, 7, seed=3)
    again = selector.top_k(pool.texts, queries, 7, seed=3)
    assert len(ranked) == len(SPECS)
    for (idx, scores), (idx2, _) in zip(ranked, again, strict=True):
        assert len(idx) == 7 == len(scores)
        assert len(set(idx.tolist())) == 7
        assert ((idx >= 0) & (idx < len(pool))).all()
        assert idx.tolist() == idx2.tolist()  # deterministic for a seed
        if name in ("tfidf", "bm25"):
            assert (np.diff(scores) <= 1e-12).all()  # best first
    assert selector.top_k(pool.texts, queries, 1000, seed=0)[0][0].shape == (len(pool),)


def test_tfidf_ranks_the_closest_text_first() -> None:
    pool = ["the weather is fine", "i will hurt you tonight", "you are so kind"]
    ranked = TfidfSelector(TfidfSelector.Args()).top_k(
        pool, [["i will hurt you"], ["you are so kind", "zzz"]], 3, seed=0
    )
    assert ranked[0][0][0] == 1
    assert ranked[1][0][0] == 2
    assert ranked[1][1][0] == pytest.approx(1.0, abs=1e-5)  # max over the spec's cases


def test_bm25_matches_a_direct_formula() -> None:
    docs = ["a b b c", "a c", "d d d", "b"]
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(token_pattern=r"(?u)\b\w+\b")
    counts = vec.fit_transform(docs)
    weights, idf = bm25_weights(counts, k1=1.5, b=0.75)
    vocab = vec.vocabulary_
    lengths = np.array([4, 2, 3, 1])
    avg = lengths.mean()

    def direct(doc: int, term: str) -> float:
        tf = docs[doc].split().count(term)
        df = sum(term in d.split() for d in docs)
        term_idf = np.log(1 + (4 - df + 0.5) / (df + 0.5))
        return term_idf * tf * 2.5 / (tf + 1.5 * (1 - 0.75 + 0.75 * lengths[doc] / avg))

    for doc in range(4):
        for term in "abcd":
            assert weights[doc, vocab[term]] == pytest.approx(direct(doc, term))
    ranked = Bm25Selector(Bm25Selector.Args()).top_k(docs, [["b"]], 2, seed=0)
    assert ranked[0][0].tolist() == [3, 0]  # the short document wins (length normalisation)


def test_dsir_prefers_target_like_examples() -> None:
    pool = ["the cat sat on the mat"] * 5 + ["stock prices rose sharply today"] * 5
    selector = DsirSelector(DsirSelector.Args(sample=False, buckets=512))
    idx, scores = selector.top_k(pool, [["a cat on a mat", "the cat sat"]], 10, seed=0)[0]
    assert sorted(idx[:5].tolist()) == [0, 1, 2, 3, 4]
    assert scores[:5].min() > scores[5:].max()
    sampled = DsirSelector(DsirSelector.Args(buckets=512))
    a = sampled.top_k(pool, [["the cat sat"]], 4, seed=1)[0][0]
    assert a.tolist() == sampled.top_k(pool, [["the cat sat"]], 4, seed=1)[0][0].tolist()


class FakeEmbedder(Model):
    """A model whose embedding is a 2-d vector keyed on two words."""

    name = "fake-embedder"

    def fit(self, texts: Any, labels: Any, seed: int, progress: Any = None) -> None:
        """Nothing to fit."""

    def predict_proba(self, texts: Any, progress: Any = None) -> np.ndarray:
        """Uniform probabilities."""
        return np.full((len(texts), 2), 0.5)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(count of 'cat', count of 'dog') + a small constant."""
        return np.array([[t.count("cat") + 0.01, t.count("dog") + 0.01] for t in texts])

    def save(self, directory: Any) -> None:
        """Nothing to save."""

    def load(self, directory: Any) -> None:
        """Nothing to load."""


def test_embedding_selector_uses_the_model_embeddings() -> None:
    model = FakeEmbedder(FakeEmbedder.Args(), 2)
    pool = ["dog dog", "cat", "cat cat dog", "dog"]
    selector = EmbeddingSelector(EmbeddingSelector.Args())
    idx, scores = selector.top_k(pool, [["a cat"]], 2, seed=0, model=model)[0]
    assert idx.tolist() == [1, 2]
    assert scores[0] == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(UserError, match="needs a model that can embed"):
        selector.top_k(pool, [["a cat"]], 2, seed=0, model=None)


# --------------------------------------------------------------------------------------------
# select()
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["random", "tfidf", "bm25", "dsir"])
def test_select_never_sees_heldout_cases(name: str) -> None:
    pool = make_pool()
    spy = SpySelector(make_selector(name))
    select(spy, pool, SPECS, 12, seed=0, label_names=LABELS)
    select(spy, pool, SPECS, 12, seed=0, label_names=LABELS, labels="agree", stratify="pool")
    text_to_id = {c.text: c.id for s in SPECS for c in s.train_cases + s.heldout_cases}
    seen_ids = {text_to_id[t] for t in spy.seen}
    train_ids = {c.id for s in SPECS for c in s.train_cases}
    heldout_ids = {c.id for s in SPECS for c in s.heldout_cases}
    assert seen_ids == train_ids
    assert not seen_ids & heldout_ids


def test_guided_and_random_get_the_same_exact_budget() -> None:
    pool = make_pool(80)
    for budget in (0, 1, 10, 25, 80, 500):
        sizes = set()
        for name in ("random", "tfidf", "bm25", "dsir"):
            chosen = select(make_selector(name), pool, SPECS, budget, seed=1, label_names=LABELS)
            assert len(set(chosen.indices.tolist())) == len(chosen.indices)
            sizes.add(len(chosen.indices))
        assert sizes == {min(budget, len(pool))}


def test_round_robin_gives_each_spec_its_share() -> None:
    chosen = select(make_selector("tfidf"), make_pool(80), SPECS, 12, seed=0, label_names=LABELS)
    assert {sid: v["n"] for sid, v in chosen.coverage.items()} == {
        "praise": 4,
        "threat": 4,
        "insult": 4,
    }
    assert all(v["mean_similarity"] > 0 for v in chosen.coverage.values())
    assert all(0 < v["case_coverage"] <= 1 for v in chosen.coverage.values())
    random = select(make_selector("random"), make_pool(80), SPECS, 12, 0, LABELS)
    assert all(v["mean_similarity"] is None for v in random.coverage.values())


def test_agree_keeps_only_examples_with_the_spec_label() -> None:
    pool = make_pool(80)
    chosen = select(
        make_selector("tfidf"), pool, SPECS, 20, seed=0, label_names=LABELS, labels="agree"
    )
    label_of = {s.id: LABELS.index(s.label) for s in SPECS}
    assert len(chosen.indices) == 20
    for index, spec_id in zip(chosen.indices, chosen.drawn_by, strict=True):
        assert pool.labels[index] == label_of[spec_id]


def test_stratify_keeps_the_pool_label_ratio() -> None:
    pool = make_pool(80)
    ratio = float((pool.labels == 1).mean())
    for name in ("tfidf", "random"):
        chosen = select(
            make_selector(name), pool, SPECS, 30, seed=0, label_names=LABELS, stratify="pool"
        )
        bad = int((pool.labels[chosen.indices] == 1).sum())
        assert len(chosen.indices) == 30
        assert bad == round(30 * ratio) or abs(bad - 30 * ratio) < 1
        assert chosen.strata == {"ok": 30 - bad, "bad": bad}
    given = select(
        make_selector("tfidf"), pool, SPECS, 10, 0, LABELS, stratify={"ok": 0.5, "bad": 0.5}
    )
    assert given.strata == {"ok": 5, "bad": 5}
    with pytest.raises(UserError, match="unknown label"):
        select(make_selector("tfidf"), pool, SPECS, 10, 0, LABELS, stratify={"meh": 1.0})


def test_summary_records_ids_and_counts() -> None:
    pool = make_pool(40)
    chosen = select(make_selector("bm25"), pool, SPECS, 9, seed=0, label_names=LABELS)
    summary = chosen.summary(pool, LABELS)
    assert summary["n_selected"] == 9 == len(summary["added_ids"])
    assert set(summary["added_ids"]) <= set(pool.ids)
    assert sum(summary["label_counts"].values()) == 9
    assert sum(v["n"] for v in summary["coverage"].values()) == 9
    assert summary["shortfall"] == 0


def test_embedding_selector_with_a_local_encoder(tmp_path: Any) -> None:
    from transformers import BertConfig, BertModel, BertTokenizer

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "cat", "dog", "a", "the", "sat"]
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n")
    BertTokenizer(str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
    )
    BertModel(config).save_pretrained(tmp_path)
    selector = EmbeddingSelector(EmbeddingSelector.Args(encoder=str(tmp_path)))
    pool = ["the cat sat", "a dog", "the dog sat", "cat"]
    idx, scores = selector.top_k(pool, [["the cat sat"]], 4, seed=0)[0]
    assert idx[0] == 0 and scores[0] == pytest.approx(1.0, abs=1e-4)
    missing = EmbeddingSelector(EmbeddingSelector.Args(encoder=str(tmp_path / "nope")))
    with pytest.raises(UserError, match="cannot load encoder"):
        missing.top_k(pool, [["cat"]], 1, seed=0)
