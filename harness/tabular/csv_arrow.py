"""CSV and TSV into a memory-mapped Arrow table, in one streaming pass of pyarrow's CSV reader.

Every field is read as text exactly as written (no type guessing; ``NA``, ``null`` or ``007``
stay strings) and every record must have the header's number of fields. Record batches go to an
Arrow IPC file in a temporary folder, which is then memory-mapped: a pool of millions of rows
costs page cache, not Python objects. On POSIX systems the file is unlinked as soon as it is
mapped (nothing is left behind, even if the process is killed); elsewhere the folder is removed
with the table or at exit.

pyarrow's reader is used rather than ``datasets``' CSV builder: that builder (pandas) pads a row
with too few fields with empty strings, drops fields when the first row has too many, and turns
every cell into a Python string on the way to Arrow (three times slower on a 1M-row pool). When
pyarrow refuses a file, :mod:`harness.tabular.scan` reads it exactly to name the line.
"""

from __future__ import annotations

import atexit
import csv
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.tabular.hints import TableHints
from harness.tabular.scan import (
    MAX_FIELD_CHARS,
    TextLayout,
    check_header,
    empty_file,
    is_blank_record,
    scan_file,
)

BLOCK_BYTES = 1 << 22
"""Bytes pyarrow parses per block."""


def read_header(path: Path, layout: TextLayout, hints: TableHints) -> tuple[list[str], int]:
    """The header row (names stripped) and the physical line where it ends, reading only the
    start of the file. Raises the file's first problem when the header cannot be read."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    with path.open("rb") as handle:
        start = handle.read(3)
    try:
        with path.open(encoding=layout.python_encoding(start), newline="") as handle:
            reader = csv.reader(handle, delimiter=layout.delimiter, strict=False)
            for record in reader:
                if not is_blank_record(record):
                    header = [name.strip() for name in record]
                    check_header(header, path, reader.line_num, hints)
                    return header, reader.line_num
    except (UnicodeDecodeError, csv.Error) as exc:
        scan_file(path, layout, hints)  # raises the exact problem
        raise UserError(
            f"cannot read the header: {exc}",
            file=path,
            field=hints.field,
            fix="check the encoding, the quoting and the delimiter",
        ) from None
    raise empty_file(path, hints)


def unique_names(header: list[str]) -> list[str]:
    """Column names with empty ones named ``Unnamed: <position>`` (as pandas does)."""
    return [name or f"Unnamed: {i}" for i, name in enumerate(header)]


class ShortRows(Exception):
    """Raised when a padded read meets a row with fewer fields than the header."""


def read_csv_arrow(
    path: Path, layout: TextLayout, names: list[str], skip: int, hints: TableHints
) -> Any:
    """The data rows after the header (``skip`` physical lines) as a memory-mapped
    ``pyarrow.Table`` with columns ``names``, all strings. A record with another field count is
    a one-line error (with ``ragged="pad"``, fewer fields raise :class:`ShortRows`: the caller
    reads such a file exactly); so is text that does not decode."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    problems: list[str] = []
    short: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if not (row.text or "").strip():
            return "skip"  # a whitespace-only line: not a record
        if row.actual_columns < row.expected_columns and layout.ragged == "pad":
            short.append(row.actual_columns)
            return "error"
        problems.append(
            f"the row has {row.actual_columns} fields but the header has {row.expected_columns}"
        )
        return "error"

    encoding = layout.python_encoding()
    if encoding.lower().replace("_", "-") in {"utf-8", "utf8", "utf-8-sig"}:
        encoding = "utf8"
    folder = tempfile.mkdtemp(prefix="harness-table-")
    target = Path(folder) / "table.arrow"
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=skip, block_size=BLOCK_BYTES, encoding=encoding
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=layout.delimiter,
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.large_string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        with pa.OSFile(str(target), "wb") as sink, pa.ipc.new_stream(sink, reader.schema) as out:
            for batch in reader:
                out.write_batch(batch)
        mapped = pa.memory_map(str(target), "r")
        table = pa.ipc.open_stream(mapped).read_all()
    except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError, ValueError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if short:
            raise ShortRows() from None
        scan_file(path, layout, hints)  # raises the exact problem when Python sees it too
        found = problems[0] if problems else str(exc).strip().splitlines()[0][:200]
        raise UserError(
            f"cannot read the file: {found}",
            file=path,
            field=hints.field,
            fix="check the quoting and the delimiter",
        ) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if os.name == "posix":
        shutil.rmtree(folder, ignore_errors=True)  # the mapping keeps the data readable
    else:
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return table
