"""Fast structural checks before ``datasets`` reads a text table.

``datasets``' CSV builder (pandas) pads a row with too few fields with empty strings and drops
data when the first row has too many; its JSON builder reads a line holding a JSON list as rows.
So before the builder runs, a streaming pass in C++ checks the structure:

- CSV/TSV: pyarrow's CSV reader counts the fields of every record and validates the encoding;
- JSON Lines: every non-blank line must start with ``{`` (a vectorised byte scan).

Whatever these find, :mod:`harness.tabular.scan` then reads the file exactly to report the first
problem with its line. Both passes stream the file: nothing is held whole in memory.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import numpy as np

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
"""Bytes read at a time by the streaming checks."""

NEWLINE = ord("\n")
LINE_HEADS = np.frombuffer(b"{\n\r", dtype=np.uint8)
"""Bytes a JSON Lines line may start with: an object, or nothing (a blank line)."""
WHITESPACE = np.frombuffer(b" \t\r\n", dtype=np.uint8)
OPENERS = np.frombuffer(b"[{", dtype=np.uint8)
CLOSERS = np.frombuffer(b"]}", dtype=np.uint8)
MAX_JSON_DEPTH = 64
"""Deepest bracket nesting in one JSON line that the builder is given; deeper lines are read by
Python's json (which reports nesting it cannot follow as an error)."""
SINGLE_BYTE_OR_UTF8 = {"utf-8", "utf-8-sig", "ascii", "latin-1", "iso8859-1", "cp1252"}
"""Encodings in which the bytes ``{`` and newline are those characters."""


def read_header(path: Path, layout: TextLayout, hints: TableHints) -> tuple[list[str], int]:
    """The CSV header row (names stripped) and the physical line where it ends, reading only the
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


def check_csv(
    path: Path, layout: TextLayout, header: list[str], skip: int, hints: TableHints
) -> int:
    """Stream the CSV with pyarrow: every record has the header's field count (fewer is allowed
    with ``ragged="pad"``) and decodes in the file's encoding. Returns the number of data rows.
    On any problem the exact scan raises it with its line."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(header))]
    problems: list[str] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        text = row.text or ""
        if not text.strip():
            return "skip"  # a blank line, skipped by the builders too
        if row.actual_columns < row.expected_columns and layout.ragged == "pad":
            return "skip"
        problems.append(
            f"the row has {row.actual_columns} fields but the header has {row.expected_columns}"
        )
        return "error"

    encoding = layout.python_encoding()
    if encoding.lower().replace("_", "-") in {"utf-8", "utf8", "utf-8-sig"}:
        encoding = "utf8"
    rows = 0
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
        for batch in reader:
            rows += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError, ValueError) as exc:
        scan_file(path, layout, hints)  # raises the exact problem when Python sees it too
        found = problems[0] if problems else str(exc).splitlines()[0][:200]
        raise UserError(
            f"cannot read the file: {found}",
            file=path,
            field=hints.field,
            fix="check the quoting and the delimiter",
        ) from None
    return rows


def check_jsonl(path: Path, layout: TextLayout, hints: TableHints) -> bool:
    """Check a JSON Lines file before the builder: every non-blank line starts with ``{`` (a BOM
    is allowed) and no line nests brackets deeper than :data:`MAX_JSON_DEPTH` (pyarrow's JSON
    parser crashes the process on very deep nesting). Returns ``True`` when the builder may read
    the file; ``False`` when the exact scan had to check it (brackets inside strings can look
    deep) and the table should be built from the exact reading. Problems raise one-line errors."""
    if codecs.lookup(layout.python_encoding()).name not in SINGLE_BYTE_OR_UTF8:
        scan_file(path, layout, hints)
        return False
    carry = b"\n"  # the byte before the current block
    depth_before = 0  # bracket depth of the current line at the end of the previous block
    saw_data = False
    with path.open("rb") as handle:
        block = handle.read(BLOCK_BYTES)
        if block.startswith(codecs.BOM_UTF8):
            block = block[len(codecs.BOM_UTF8) :]
        while block:
            data = np.frombuffer(carry + block, dtype=np.uint8)
            newline = data == NEWLINE
            heads = data[np.flatnonzero(newline[:-1]) + 1]
            if np.any(~np.isin(heads, LINE_HEADS)):
                scan_file(path, layout, hints)  # a line starting otherwise: check exactly
                return False
            depth, depth_before = _line_depths(data[1:], newline[1:], depth_before)
            if depth > MAX_JSON_DEPTH:
                scan_file(path, layout, hints)  # raises "nested too deeply" when it is
                return False
            saw_data = saw_data or bool(np.any(~np.isin(data, WHITESPACE)))
            carry = block[-1:]
            block = handle.read(BLOCK_BYTES)
    if not saw_data:
        raise empty_file(path, hints)
    return True


def _line_depths(data: np.ndarray, newline: np.ndarray, start: int) -> tuple[int, int]:
    """The largest bracket depth reached within a line of ``data`` (counting ``[``/``{`` up and
    ``]``/``}`` down, strings not excluded), and the depth of the last, unfinished line."""
    step = np.isin(data, OPENERS).astype(np.int32) - np.isin(data, CLOSERS).astype(np.int32)
    if not len(step):
        return start, start
    level = np.cumsum(step) + start
    ends = np.flatnonzero(newline)
    line = np.cumsum(newline) - newline  # line index of each byte (a newline ends its line)
    base = np.concatenate([[0], level[ends]])[line]
    base[line == 0] = 0
    relative = level - base
    relative[line == 0] = level[line == 0]
    return int(relative.max(initial=0)), int(relative[-1]) if not newline[-1] else 0
