"""Exact, line-by-line reading of CSV/TSV and JSON Lines files in Python: the first problem of
a file as a one-line error naming its line, and the line where every row starts.

The fast path (``datasets``' builders, :mod:`harness.tabular.precheck`) reads the data; this
module runs when that path failed or found something wrong (to say exactly what and where), and
when a caller asks for the line of a row (:meth:`harness.tabular.table.Table.line_of`). Rows are
counted as the builders count them: CSV lines that are empty or hold only whitespace are
skipped, and so are blank JSON lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from harness.errors import UserError
from harness.input_files import read_bytes
from harness.limits import DATA_MB
from harness.tabular.hints import TableHints

MAX_FIELD_CHARS = 2**31 - 1
"""The csv module's field limit is raised so that very long texts never fail to parse."""

Ragged = Literal["error", "pad"]
"""What a CSV row with fewer fields than the header is: an error, or padded with empty fields.
A row with more fields is always an error."""


@dataclass(frozen=True)
class TextLayout:
    """How a text table is laid out: ``csv`` (with ``delimiter``) or ``jsonl``."""

    fmt: Literal["csv", "jsonl"]
    encoding: str = "utf-8"
    delimiter: str = ","
    header: bool = True
    ragged: Ragged = "error"

    def python_encoding(self, data_start: bytes = b"") -> str:
        """The codec to decode with: ``utf-8-sig`` for UTF-8 data that starts with a BOM."""
        name = self.encoding.lower().replace("_", "-")
        if name in {"utf-8", "utf8"} and data_start.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        return self.encoding


def encoding_fix(hints: TableHints) -> str:
    """How to give a file's encoding."""
    return hints.how_to_set("encoding", "latin-1")


def check_encoding_name(layout: TextLayout, path: Path, hints: TableHints) -> None:
    """An unknown encoding name is a one-line error naming the encoding option."""
    try:
        codecs.lookup(layout.encoding)
    except LookupError:
        raise UserError(
            f"unknown encoding {layout.encoding!r}",
            file=path,
            field=hints.option("encoding"),
            fix="use e.g. encoding=utf-8, latin-1 or cp1252",
        ) from None


def decode_error(
    path: Path, data: bytes, exc: UnicodeDecodeError, layout: TextLayout, hints: TableHints
) -> UserError:
    """The one-line error for bytes that are not valid in the file's encoding."""
    line = data[: exc.start].count(b"\n") + 1
    return UserError(
        f"not valid {layout.encoding} (byte 0x{data[exc.start]:02x} at offset {exc.start})",
        file=path,
        line=line,
        field=hints.field,
        fix=encoding_fix(hints),
    )


def read_decoded(path: Path, layout: TextLayout, hints: TableHints) -> str:
    """The whole file decoded (a BOM dropped), with one-line errors for unreadable bytes."""
    check_encoding_name(layout, path, hints)
    data = read_bytes(path, DATA_MB, field=hints.field)
    try:
        return data.decode(layout.python_encoding(data[:3]))
    except UnicodeDecodeError as exc:
        raise decode_error(path, data, exc, layout, hints) from None


def empty_file(path: Path, hints: TableHints) -> UserError:
    """The error for a file without a header row or any data."""
    return UserError(
        "the file is empty",
        file=path,
        field=hints.field,
        fix="give a file with a header row and data rows",
    )


@dataclass
class Scan:
    """What an exact scan found: the header (CSV with a header row) and the physical line where
    each row starts."""

    header: list[str]
    lines: np.ndarray


def is_blank_record(record: list[str]) -> bool:
    """A CSV record that ``datasets``' CSV builder skips: an empty or whitespace-only line."""
    return not record or (len(record) == 1 and not record[0].strip())


def scan_csv(text: str, path: Path, layout: TextLayout, hints: TableHints) -> Scan:
    """Check every CSV record (header names, field counts, quoting) and return the header and
    each row's first line; the first problem is raised as a one-line :class:`UserError`."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter, strict=False)
    header: list[str] | None = None if layout.header else []
    lines = array("q")
    previous = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise UserError(
                f"cannot parse the row: {exc}",
                file=path,
                line=reader.line_num,
                field=hints.field,
                fix="check the quoting and the delimiter",
            ) from None
        start, previous = previous + 1, reader.line_num
        if is_blank_record(record):
            continue
        if header is None:
            header = [name.strip() for name in record]
            check_header(header, path, start, hints)
            continue
        width = len(header) if layout.header else len(record)
        if len(record) > width or (len(record) < width and layout.ragged == "error"):
            raise UserError(
                f"the row has {len(record)} fields but the header has {width}",
                file=path,
                line=start,
                field=hints.field,
                fix="quote fields that contain the delimiter, or pass the right delimiter",
            )
        lines.append(start)
    if header is None:
        raise empty_file(path, hints)
    return Scan(header, np.frombuffer(lines, dtype=np.int64).copy())


def check_header(header: list[str], path: Path, line: int, hints: TableHints) -> None:
    """Every column of a header row needs its own name."""
    duplicates = sorted({name for name in header if header.count(name) > 1 and name})
    if duplicates:
        raise UserError(
            f"column {duplicates[0]!r} appears twice in the header",
            file=path,
            line=line,
            field=hints.field,
            fix="give every column a unique name",
        )


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def scan_jsonl(text: str, path: Path, hints: TableHints) -> Scan:
    """Check every JSON line (valid JSON, an object, no lone surrogate) and return each row's
    line; the first problem is raised as a one-line :class:`UserError`."""
    lines = array("q")
    for number, raw in enumerate(io.StringIO(text, newline=None), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UserError(
                f"invalid JSON: {exc.msg} (column {exc.colno})",
                file=path,
                line=number,
                field=hints.field,
                fix="the line is not valid JSON: write one JSON object per line",
            ) from None
        except RecursionError:
            raise UserError(
                "the JSON is nested too deeply",
                file=path,
                line=number,
                field=hints.field,
                fix="write flat objects",
            ) from None
        if not isinstance(value, dict):
            raise UserError(
                f"expected a JSON object, got {type(value).__name__}",
                file=path,
                line=number,
                field=hints.field,
                fix='write one object per line, e.g. {"text": "...", "label": "..."}',
            )
        if _has_lone_surrogate(value):
            raise UserError(
                "a string holds an invalid unicode escape (a lone surrogate such as \\ud800)",
                file=path,
                line=number,
                field=hints.field,
                fix="fix the escape or remove the row",
            )
        lines.append(number)
    return Scan([], np.frombuffer(lines, dtype=np.int64).copy())


def scan_file(path: Path, layout: TextLayout, hints: TableHints) -> Scan:
    """Read ``path`` exactly (see module doc); raise its first problem."""
    text = read_decoded(path, layout, hints)
    if not text.strip():
        raise empty_file(path, hints)
    if layout.fmt == "jsonl":
        return scan_jsonl(text, path, hints)
    return scan_csv(text, path, layout, hints)


def json_records(path: Path, layout: TextLayout, hints: TableHints) -> list[dict[str, object]]:
    """Every object of a JSON Lines file, read exactly with Python's ``json`` (for columns whose
    JSON types are mixed or beyond Arrow, e.g. numbers too big for a double)."""
    text = read_decoded(path, layout, hints)
    out: list[dict[str, object]] = []
    for raw in io.StringIO(text, newline=None):
        if raw.strip():
            value = json.loads(raw)
            out.append(value if isinstance(value, dict) else {})
    return out
