"""Cells as text: how a table's values become the strings readers compare (labels, ids, spec
columns), vectorised over Arrow columns, with a Python path for columns whose types Arrow cannot
hold uniformly (mixed JSON types, nested values).

Rules (the same for CSV, JSON Lines, Parquet, Arrow and datasets):

- missing: a null, a NaN, an empty or whitespace-only string;
- a scalar is a string (stripped), an integer, a finite float (``1.0`` reads as ``1``) or a
  boolean (``true`` / ``false``); lists, objects and infinities are not scalars.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

    from harness.tabular.table import Table


def cell_text(value: Any) -> str:
    """A cell as text for spec tables: ``None`` -> ``""``, ``1.0`` -> ``"1"``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def scalar_text(value: Any) -> str:
    """A scalar as text: strings stripped, JSON numbers and booleans as JSON writes them, ``1.0``
    as ``1``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value) if not isinstance(value, (int, float)) else str(value)


def is_missing(value: Any) -> bool:
    """Null, NaN, or an empty or whitespace-only string."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def is_scalar(value: Any) -> bool:
    """A string, bool, int or finite float."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int))


def kind_name(value: Any) -> str:
    """The JSON-ish kind of a Python value for messages (``list``, ``dict``, ``int``...)."""
    return type(value).__name__


def is_text_type(arrow_type: pa.DataType) -> bool:
    """A string or large string type."""
    import pyarrow as pa

    return bool(pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type))


def missing_text_mask(column: pa.ChunkedArray) -> np.ndarray:
    """Rows of a string column that are null, empty or whitespace only."""
    import pyarrow.compute as pc

    if not len(column):
        return np.zeros(0, dtype=bool)
    blank = pc.or_kleene(pc.is_null(column), pc.equal(pc.utf8_trim_whitespace(column), ""))
    return np.asarray(pc.fill_null(blank, True).to_numpy(zero_copy_only=False), dtype=bool)


@dataclass
class TextCells:
    """A column meant to hold texts: the strings (nulls where a row has none), which rows are
    missing, and the first row holding something other than a string."""

    strings: pa.ChunkedArray
    missing: np.ndarray
    bad_row: int | None = None
    bad_kind: str = ""


def text_cells(table: Table, name: str) -> TextCells:
    """Column ``name`` as texts (see :class:`TextCells`); strings are kept as written."""
    import pyarrow as pa

    column = table.column(name)
    if is_text_type(column.type) and not table.is_json(name):
        return TextCells(column, missing_text_mask(column))
    values = table.python_values(name)
    missing = np.zeros(len(values), dtype=bool)
    strings: list[str | None] = []
    bad_row, bad_kind = None, ""
    for row, value in enumerate(values):
        if is_missing(value):
            missing[row] = True
            strings.append(None)
        elif isinstance(value, str):
            strings.append(value)
        else:
            if bad_row is None:
                bad_row, bad_kind = row, kind_name(value)
            strings.append(None)
    return TextCells(
        pa.chunked_array([pa.array(strings, type=pa.large_string())]), missing, bad_row, bad_kind
    )


@dataclass
class ScalarCells:
    """A column of scalars (labels, ids) as normalised strings, nulls where missing, with the
    first row holding a non-scalar and the first holding a float that is not a whole number."""

    strings: pa.ChunkedArray
    bad_row: int | None = None
    bad_value: Any = None
    fraction_row: int | None = None
    fraction_value: Any = None
    not_scalar: np.ndarray | None = None
    """Rows holding a non-scalar (``None``: none do)."""

    @property
    def missing(self) -> np.ndarray:
        """Rows without a value (non-scalars are not counted as missing)."""
        import pyarrow.compute as pc

        if not len(self.strings):
            return np.zeros(0, dtype=bool)
        nulls = np.asarray(pc.is_null(self.strings).to_numpy(zero_copy_only=False), dtype=bool)
        return nulls if self.not_scalar is None else nulls & ~self.not_scalar


def scalar_cells(table: Table, name: str) -> ScalarCells:
    """Column ``name`` as normalised scalar strings (see module doc); ``ClassLabel`` integers
    become their class names."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = table.column(name)
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    names = table.class_names(name)
    if names is not None and pa.types.is_integer(kind):
        codes = np.asarray(column.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        lookup = np.asarray(names + [None], dtype=object)
        valid = (codes >= 0) & (codes < len(names))
        picked = lookup[np.where(valid, codes, len(names))]
        return ScalarCells(pa.chunked_array([pa.array(picked.tolist(), type=pa.large_string())]))
    if table.is_json(name):
        return _python_scalars(table.python_values(name))
    if is_text_type(kind):
        trimmed = pc.utf8_trim_whitespace(column)
        return ScalarCells(
            pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
        )
    if pa.types.is_null(kind):
        return ScalarCells(pa.chunked_array([pa.nulls(len(column), type=pa.large_string())]))
    if pa.types.is_boolean(kind):
        return ScalarCells(pc.if_else(column, "true", "false").cast(pa.large_string()))
    if pa.types.is_integer(kind):
        return ScalarCells(column.cast(pa.large_string()))
    if pa.types.is_floating(kind):
        finite = column.filter(pc.invert(pc.fill_null(pc.is_nan(column), True)))
        whole = pc.all(pc.equal(pc.floor(finite), finite)).as_py() is not False
        if not pc.any(pc.is_inf(finite)).as_py() and whole:
            as_int = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
            return ScalarCells(as_int.cast(pa.int64()).cast(pa.large_string()))
    return _python_scalars(table.python_values(name))


def _python_scalars(values: list[Any]) -> ScalarCells:
    import pyarrow as pa

    out: list[str | None] = []
    cells = ScalarCells(pa.chunked_array([], type=pa.large_string()))
    cells.not_scalar = np.zeros(len(values), dtype=bool)
    for row, value in enumerate(values):
        if is_missing(value):
            out.append(None)
            continue
        if not is_scalar(value):
            if cells.bad_row is None:
                cells.bad_row, cells.bad_value = row, value
            cells.not_scalar[row] = True
            out.append(None)
            continue
        if isinstance(value, float) and not value.is_integer() and cells.fraction_row is None:
            cells.fraction_row, cells.fraction_value = row, value
        out.append(scalar_text(value))
    cells.strings = pa.chunked_array([pa.array(out, type=pa.large_string())])
    return cells


def first_true(mask: np.ndarray) -> int | None:
    """Index of the first ``True`` in ``mask`` (``None`` when there is none)."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None
