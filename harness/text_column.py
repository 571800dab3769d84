"""A lazy, read-only sequence of strings over an Arrow column: how large splits reach plugins.

A pool of a million rows read through :mod:`harness.tabular` stays an Arrow column (memory-mapped
from the file ``datasets`` wrote) instead of a million Python strings. :class:`TextColumn` makes
such a column look like the ``Sequence[str]`` every plugin already accepts:

- ``len(col)``, ``col[i]`` (one ``str``), ``col[a:b]`` (a zero-copy :class:`TextColumn`),
  iteration (decoded a chunk at a time, so only one chunk of Python strings lives at once) and
  ``col == other`` (element-wise, against any sequence of strings);
- :meth:`TextColumn.chunks` yields lists of at most ``size`` strings, for code that works in
  blocks (vectorisers, encoders); :func:`iter_chunks` does the same for any sequence;
- :meth:`TextColumn.take` selects rows into a new column (Arrow ``take``; a contiguous range is a
  zero-copy slice); :func:`take_texts` and :func:`concat_texts` keep plain lists as lists;
- :meth:`TextColumn.content_hash` is the same SHA-256 :func:`harness.training.hash_texts` gives
  the equal list of strings, computed once per column.

pyarrow is imported lazily, so importing this module (and :mod:`harness.api`) stays cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from harness.arrow_memory import import_pyarrow

if TYPE_CHECKING:
    import pyarrow as pa

CHUNK_ROWS = 65_536
"""Rows decoded into Python strings at a time when a :class:`TextColumn` is iterated."""


def hash_string_sequence(texts: Iterable[str]) -> str:
    """SHA-256 over a sequence of strings, each length-prefixed (so boundaries count)."""
    digest = hashlib.sha256()
    for text in texts:
        encoded = text.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest()


class TextColumn(Sequence[str]):
    """An immutable sequence of strings backed by a pyarrow string column (see module doc).

    Null entries are not allowed: the readers that build columns check them first."""

    __slots__ = ("_array", "_hash")

    def __init__(self, array: pa.ChunkedArray | pa.Array) -> None:
        arrow = import_pyarrow()

        if isinstance(array, arrow.Array):
            array = arrow.chunked_array([array], type=array.type)
        if not (arrow.types.is_string(array.type) or arrow.types.is_large_string(array.type)):
            raise TypeError(f"a TextColumn holds strings, not {array.type}")
        self._array: pa.ChunkedArray = array
        self._hash: str | None = None

    @classmethod
    def from_strings(cls, texts: Iterable[str]) -> TextColumn:
        """A column holding ``texts`` (copied into Arrow memory)."""
        arrow = import_pyarrow()

        return cls(arrow.array(list(texts), type=arrow.large_string()))

    @property
    def arrow(self) -> pa.ChunkedArray:
        """The underlying Arrow column (read-only)."""
        return self._array

    def __len__(self) -> int:
        return len(self._array)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> TextColumn: ...

    def __getitem__(self, index: int | slice) -> str | TextColumn:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                return TextColumn(self._array.slice(start, max(0, stop - start)))
            return self.take(np.arange(start, stop, step, dtype=np.int64))
        position = int(index)
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError("TextColumn index out of range")
        value = self._array[position].as_py()
        return str(value)

    def __iter__(self) -> Iterator[str]:
        for chunk in self.chunks():
            yield from chunk

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[list[str]]:
        """The strings in order, as lists of at most ``size``."""
        for piece in self._array.chunks:
            for start in range(0, len(piece), size):
                yield piece.slice(start, size).to_pylist()

    def take(self, indices: Sequence[int] | np.ndarray) -> TextColumn:
        """The rows at ``indices`` (in that order) as a new column."""
        import pyarrow as pa

        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError("TextColumn index out of range")
        if idx.size and idx[0] >= 0 and np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
            return TextColumn(self._array.slice(int(idx[0]), int(idx.size)))
        if not idx.size:
            return TextColumn(pa.chunked_array([], type=self._array.type))
        return TextColumn(self._array.take(pa.array(idx)))

    def concat(self, other: TextColumn) -> TextColumn:
        """This column followed by ``other`` (no copy of either when their types agree)."""
        import pyarrow as pa

        left, right = self._array, other._array
        if left.type != right.type:
            left, right = left.cast(pa.large_string()), right.cast(pa.large_string())
        return TextColumn(pa.chunked_array(left.chunks + right.chunks, type=left.type))

    def to_list(self) -> list[str]:
        """Every string as a Python list (materialises the column)."""
        return [text for chunk in self.chunks() for text in chunk]

    def content_hash(self) -> str:
        """:func:`hash_string_sequence` of the column, computed once."""
        if self._hash is None:
            self._hash = hash_string_sequence(self)
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        if len(other) != len(self):
            return False
        if isinstance(other, TextColumn) and self._array.equals(other._array):
            return True
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(repr(text) for text in self[:3])
        more = ", ..." if len(self) > 3 else ""
        return f"TextColumn([{head}{more}], rows={len(self)})"


def is_lazy(texts: Sequence[str]) -> bool:
    """Whether ``texts`` is an Arrow-backed :class:`TextColumn`."""
    return isinstance(texts, TextColumn)


def take_texts(texts: Sequence[str], indices: Sequence[int] | np.ndarray) -> Sequence[str]:
    """The strings at ``indices``: a :class:`TextColumn` for a column, else a list."""
    if isinstance(texts, TextColumn):
        return texts.take(indices)
    return [texts[int(i)] for i in indices]


def concat_texts(first: Sequence[str], second: Sequence[str]) -> Sequence[str]:
    """``first`` followed by ``second``: a :class:`TextColumn` when both are columns (no copy),
    else a list."""
    if isinstance(first, TextColumn) and isinstance(second, TextColumn):
        return first.concat(second)
    return list(first) + list(second)


def same_texts(texts: Sequence[str]) -> Sequence[str]:
    """A copy a caller may keep: columns are immutable and shared, lists are copied."""
    return texts if isinstance(texts, TextColumn) else list(texts)


def iter_chunks(texts: Sequence[str], size: int = CHUNK_ROWS) -> Iterator[list[str]]:
    """``texts`` as lists of at most ``size`` strings (columns decode one chunk at a time)."""
    if isinstance(texts, TextColumn):
        yield from texts.chunks(size)
        return
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])


def as_list(texts: Sequence[str] | Any) -> list[str]:
    """``texts`` as a list (a list is returned as is)."""
    if isinstance(texts, list):
        return texts
    if isinstance(texts, TextColumn):
        return texts.to_list()
    return list(texts)
