"""A table read by the tabular layer: Arrow columns (memory-mapped when ``datasets`` built them),
where the table came from, and the line of every row for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import UserError
from harness.tabular.hints import TableHints
from harness.tabular.scan import TextLayout, json_records, scan_file

if TYPE_CHECKING:
    import pyarrow as pa


class Table:
    """Rows and columns of one file or one dataset split.

    ``arrow`` is the ``pyarrow.Table`` (kept alive with ``keep``, e.g. the ``datasets.Dataset``
    that memory-maps it). ``origin`` names the table in errors (a file path, or ``dataset
    [split]``). For text files (``layout`` set) :meth:`line_of` gives a row's physical line,
    found by an exact scan the first time it is needed; for Parquet, Arrow and datasets it is the
    1-based row number. ``features`` are ``datasets.Features`` when known (class names of
    ``ClassLabel`` columns, JSON-encoded columns)."""

    def __init__(
        self,
        arrow: pa.Table,
        origin: str,
        hints: TableHints,
        *,
        path: Path | None = None,
        layout: TextLayout | None = None,
        features: Any = None,
        keep: Any = None,
        fingerprint: str | None = None,
    ) -> None:
        self.arrow = arrow
        self.origin = origin
        self.hints = hints
        self.path = path
        self.layout = layout
        self.features = features
        self.keep = keep
        self.fingerprint = fingerprint
        self.json_columns: frozenset[str] = frozenset()
        """Columns holding JSON-encoded values (mixed JSON types Arrow cannot hold as one)."""
        self._lines: np.ndarray | None = None
        self._records: list[dict[str, Any]] | None = None

    @property
    def column_names(self) -> list[str]:
        """The columns, in file order."""
        return list(self.arrow.column_names)

    @property
    def num_rows(self) -> int:
        """Number of data rows."""
        return int(self.arrow.num_rows)

    def __len__(self) -> int:
        return self.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        """The Arrow column ``name``."""
        return self.arrow.column(name)

    def feature(self, name: str) -> Any:
        """The ``datasets`` feature of column ``name`` (``None`` when unknown)."""
        if self.features is None:
            return None
        return self.features.get(name)

    def class_names(self, name: str) -> list[str] | None:
        """The names of a ``ClassLabel`` column (``None`` for other columns)."""
        feature = self.feature(name)
        names = getattr(feature, "names", None)
        if names is not None and hasattr(feature, "int2str"):
            return [str(n) for n in names]
        return None

    def is_json(self, name: str) -> bool:
        """Whether column ``name`` holds JSON-encoded values (a JSON column of mixed types)."""
        return name in self.json_columns or type(self.feature(name)).__name__ == "Json"

    def python_values(self, name: str) -> list[Any]:
        """Every value of column ``name`` as Python objects, exactly as written (JSON Lines files
        are re-read, so numbers too big for Arrow and mixed types keep their JSON meaning)."""
        if self.layout is not None and self.layout.fmt == "jsonl" and self.path is not None:
            if self._records is None:
                self._records = json_records(self.path, self.layout, self.hints)
            return [record.get(name) for record in self._records]
        values = self.column(name).to_pylist()
        if self.is_json(name):
            import json

            return [None if v is None else json.loads(v) for v in values]
        return values

    def lines(self) -> np.ndarray:
        """The line (text files) or 1-based row number of every row."""
        if self._lines is None:
            if self.layout is not None and self.path is not None:
                found = scan_file(self.path, self.layout, self.hints).lines
                if len(found) != self.num_rows:  # cannot happen for a checked file
                    found = np.arange(1, self.num_rows + 1, dtype=np.int64)
                self._lines = found
            else:
                self._lines = np.arange(1, self.num_rows + 1, dtype=np.int64)
        return self._lines

    def line_of(self, row: int) -> int:
        """The line (text files) or 1-based row number of ``row`` (0-based)."""
        return int(self.lines()[row])

    def error(
        self, problem: str, fix: str, row: int | None = None, field: str | None = None
    ) -> UserError:
        """A one-line error about this table (at ``row`` when given)."""
        return UserError(
            problem,
            file=self.origin,
            line=None if row is None else self.line_of(row),
            field=field or self.hints.field,
            fix=fix,
        )

    def string_rows(self) -> list[dict[str, str]]:
        """Every row as ``{column: text}``: missing values become ``""`` and whole-number
        floats their integer (``1.0`` -> ``"1"``), as spec tables want them."""
        from harness.tabular.values import cell_text

        columns = {name: self.python_values(name) for name in self.column_names}
        decoders = {name: self.class_names(name) for name in self.column_names}
        out: list[dict[str, str]] = []
        for i in range(self.num_rows):
            row: dict[str, str] = {}
            for name, values in columns.items():
                value = values[i]
                names = decoders[name]
                if names is not None and isinstance(value, int) and 0 <= value < len(names):
                    value = names[value]
                row[name] = cell_text(value)
            out.append(row)
        return out
