"""TextColumn: the Arrow-backed Sequence[str] of large splits, and Split operations on it."""

from __future__ import annotations

import numpy as np
import pytest

from harness.api import Split
from harness.cache import hash_split, hash_texts
from harness.text_column import (
    TextColumn,
    concat_texts,
    iter_chunks,
    take_texts,
)

WORDS = [f"text number {i} é✓" for i in range(10)]


def column(texts: list[str] = WORDS) -> TextColumn:
    return TextColumn.from_strings(texts)


def test_behaves_like_the_list_it_holds() -> None:
    col = column()
    assert len(col) == 10 and col[0] == WORDS[0] and col[-1] == WORDS[-1]
    assert list(col) == WORDS and col == WORDS and col == tuple(WORDS)
    assert col[2:5] == WORDS[2:5] and isinstance(col[2:5], TextColumn)
    assert col[::3] == WORDS[::3] and col[8:100] == WORDS[8:]
    assert col.take([3, 1, 3]) == [WORDS[3], WORDS[1], WORDS[3]]
    assert col.take(np.arange(4, 7)) == WORDS[4:7]  # a contiguous range is a slice
    assert col.take([]) == [] and len(col.take([])) == 0
    assert col != WORDS[:9] and col != [*WORDS[:9], "other"]
    with pytest.raises(IndexError):
        col[10]
    with pytest.raises(IndexError):
        col.take([10])
    with pytest.raises(TypeError):
        hash(col)


def test_chunks_and_concat_keep_order_without_copying_lists() -> None:
    col = column()
    chunks = list(col.chunks(4))
    assert [len(c) for c in chunks] == [4, 4, 2] and sum(chunks, []) == WORDS
    assert list(iter_chunks(WORDS, 4)) == chunks  # a plain list in the same blocks
    joined = col.concat(column(["a", "b"]))
    assert joined == [*WORDS, "a", "b"] and joined.arrow.num_chunks == 2
    assert concat_texts(col, column(["a"])) == [*WORDS, "a"]
    assert isinstance(concat_texts(col, column(["a"])), TextColumn)
    assert concat_texts(["x"], col) == ["x", *WORDS] and isinstance(concat_texts(["x"], col), list)
    assert take_texts(WORDS, [1, 0]) == [WORDS[1], WORDS[0]]


def test_content_hash_is_the_hash_of_the_same_strings_as_a_list() -> None:
    col = column()
    assert hash_texts(col) == hash_texts(WORDS) == col.content_hash()
    assert hash_texts(col[:5]) == hash_texts(WORDS[:5])
    assert hash_texts(column([*WORDS[:9], "changed"])) != hash_texts(col)


def test_split_operations_keep_columns_lazy_and_hash_like_lists() -> None:
    labels = np.arange(10) % 2
    lazy = Split(ids=column([f"id{i}" for i in range(10)]), texts=column(), labels=labels)
    plain = Split(ids=[f"id{i}" for i in range(10)], texts=list(WORDS), labels=labels)
    assert hash_split(lazy) == hash_split(plain)
    picked = lazy.subset([7, 2])
    assert isinstance(picked.texts, TextColumn) and picked.texts == [WORDS[7], WORDS[2]]
    assert picked.labels.tolist() == [1, 0] and picked.ids == ["id7", "id2"]
    assert isinstance(lazy.concat(lazy).texts, TextColumn) and len(lazy.concat(lazy)) == 20
    mixed = plain.subset([0]).concat(lazy.subset([1]))
    assert isinstance(mixed.texts, list) and mixed.texts == [WORDS[0], WORDS[1]]
    relabelled = lazy.with_labels(1 - labels)
    assert relabelled.texts is lazy.texts and relabelled.labels.tolist() == (1 - labels).tolist()
    assert len(lazy.subset(range(3))) == 3
