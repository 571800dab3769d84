"""Reading one data file (CSV, TSV, JSON Lines, Parquet, Arrow) into a :class:`Table`, with every
problem as a one-line error.

The path goes through :func:`harness.tabular.access.check_data_file` first. Then:

- CSV/TSV: pyarrow's CSV reader, streamed into a memory-mapped Arrow file
  (:mod:`harness.tabular.csv_arrow`);
- JSON Lines: ``datasets``' JSON builder, after a byte-level structure check
  (:mod:`harness.tabular.jsonl_check`);
- Parquet and Arrow (IPC) files: ``datasets``' ``parquet`` and ``arrow`` builders.

When a reader fails, the exact scan (:mod:`harness.tabular.scan`) names the line; when the exact
scan accepts a file a reader cannot represent (a JSON number too big for a double, mixed JSON
types in older ``datasets``, a spec table with short rows to pad), the table is built from the
exact reading instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from harness.arrow_memory import import_pyarrow
from harness.errors import UserError
from harness.tabular.access import check_data_file
from harness.tabular.builders import build_from_file
from harness.tabular.csv_arrow import ShortRows, read_csv_arrow, read_header, unique_names
from harness.tabular.hints import TableHints
from harness.tabular.jsonl_check import check_jsonl
from harness.tabular.scan import Ragged, TextLayout, check_encoding_name, scan_file
from harness.tabular.table import Table

Format = Literal["csv", "tsv", "jsonl", "parquet", "arrow"]

SUFFIX_FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
}
"""File suffix -> format."""

FORMAT_CHOICES = "use .csv, .tsv, .jsonl, .parquet or .arrow"


def format_of(
    path: Path,
    fmt: str | None,
    delimiter: str | None,
    hints: TableHints,
    default: Format | None = None,
) -> tuple[Format, str]:
    """The format of ``path`` (``fmt``, else the suffix, else ``default``) and the CSV delimiter.
    A ``delimiter`` without a format means CSV with that delimiter."""
    if fmt in (None, "auto"):
        if delimiter is not None:
            return "csv", delimiter
        found = SUFFIX_FORMATS.get(path.suffix.lower(), default)
        if found is None:
            raise UserError(
                f"cannot tell the format from the suffix {path.suffix or '(none)'!r}",
                file=path,
                field=hints.field,
                fix=f"{FORMAT_CHOICES}, or pass delimiter=, (or delimiter=tab)",
            )
        fmt = found
    if fmt not in ("csv", "tsv", "jsonl", "parquet", "arrow"):
        raise UserError(
            f"unknown format {fmt!r}",
            file=path,
            field=hints.option("format"),
            fix="use csv, tsv, jsonl, parquet or arrow",
        )
    default_delimiter = "\t" if fmt == "tsv" else ","
    return fmt, delimiter or default_delimiter  # type: ignore[return-value]


def read_table(
    path: str | Path,
    hints: TableHints,
    *,
    fmt: str | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    header: bool = True,
    ragged: Ragged = "error",
    default_format: Format | None = None,
) -> Table:
    """Read the data file at ``path`` (see module doc). ``hints`` say how errors name the
    user's settings; ``ragged`` whether CSV rows may have fewer fields than the header."""
    file = Path(path).expanduser()
    check_data_file(file, hints)
    import_pyarrow()
    kind, sep = format_of(file, fmt, delimiter, hints, default_format)
    if kind in ("parquet", "arrow"):
        return _read_binary(file, kind, hints)
    layout = TextLayout(
        fmt="jsonl" if kind == "jsonl" else "csv",
        encoding=encoding,
        delimiter=sep,
        header=header,
        ragged=ragged,
    )
    check_encoding_name(layout, file, hints)
    if layout.fmt == "jsonl":
        return _read_jsonl(file, layout, hints)
    return _read_csv(file, layout, hints)


def read_column_names(
    path: str | Path,
    hints: TableHints,
    *,
    fmt: str | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    default_format: Format | None = None,
) -> list[str] | None:
    """The column names of a CSV/TSV header, or of a Parquet/Arrow schema, reading only the
    start of the file; ``None`` for JSON Lines (keys may differ per line) or a file that cannot
    be read (reading it later reports why)."""
    file = Path(path).expanduser()
    try:
        check_data_file(file, hints)
        kind, sep = format_of(file, fmt, delimiter, hints, default_format)
        if kind == "jsonl":
            return None
        import_pyarrow()
        if kind == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(file).names)
        if kind == "arrow":
            return _read_binary(file, kind, hints).column_names
        layout = TextLayout(fmt="csv", encoding=encoding, delimiter=sep)
        check_encoding_name(layout, file, hints)
        header, _ = read_header(file, layout, hints)
    except (UserError, OSError, ValueError):
        return None
    return unique_names(header)


def _read_csv(path: Path, layout: TextLayout, hints: TableHints) -> Table:
    if not layout.header:  # small headerless tables (e.g. descriptions): read exactly
        width = max((len(r) for r in _records(path, layout, hints)), default=0)
        names = [f"column{i + 1}" for i in range(width)]
        return _exact_csv(path, layout, hints, names)
    header, skip = read_header(path, layout, hints)
    names = unique_names(header)
    try:
        arrow = read_csv_arrow(path, layout, names, skip, hints)
    except ShortRows:  # rows to pad: read exactly
        return _exact_csv(path, layout, hints, names)
    return Table(arrow, str(path), hints, path=path, layout=layout)


def _read_jsonl(path: Path, layout: TextLayout, hints: TableHints) -> Table:
    if not check_jsonl(path, layout, hints):
        return _exact_jsonl(path, layout, hints)
    config: dict[str, Any] = {"encoding": layout.python_encoding(_start(path))}
    try:
        dataset = build_from_file("json", path, **config)
    except Exception:  # the exact read names the line, or builds what Arrow could not infer
        scan_file(path, layout, hints)
        return _exact_jsonl(path, layout, hints)
    return _table_of(dataset, path, hints, layout)


def _read_binary(path: Path, kind: str, hints: TableHints) -> Table:
    try:
        dataset = build_from_file(kind, path)
    except Exception as exc:
        name = "Parquet" if kind == "parquet" else "Arrow"
        raise UserError(
            f"cannot read the {name} file: {_first_line(exc)}",
            file=path,
            field=hints.field,
            fix=f"check that it is a {name} file (pyarrow reads it), or use another format",
        ) from None
    return _table_of(dataset, path, hints, None)


def _table_of(dataset: Any, path: Path, hints: TableHints, layout: TextLayout | None) -> Table:
    return Table(
        dataset.data.table,
        str(path),
        hints,
        path=path,
        layout=layout,
        features=dataset.features,
        keep=dataset,
        fingerprint=getattr(dataset, "_fingerprint", None),
    )


def _start(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(3)


def _first_line(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    text = str(cause or exc) or type(exc).__name__
    return text.strip().splitlines()[0][:200] if text.strip() else type(exc).__name__


def _records(path: Path, layout: TextLayout, hints: TableHints) -> list[list[str]]:
    import csv
    import io

    from harness.tabular.scan import is_blank_record, read_decoded

    text = read_decoded(path, layout, hints)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter, strict=False)
    return [record for record in reader if not is_blank_record(record)]


def _exact_csv(path: Path, layout: TextLayout, hints: TableHints, names: list[str]) -> Table:
    """Build the table from Python's csv reading (after the exact scan checked the file)."""
    import pyarrow as pa

    scan = scan_file(path, layout, hints)
    records = _records(path, layout, hints)
    if layout.header:
        records = records[1:]
    if len(records) != len(scan.lines):
        raise UserError(
            "cannot read the file",
            file=path,
            field=hints.field,
            fix="check the quoting and the delimiter",
        )
    columns = {
        name: pa.array(
            [record[i] if i < len(record) else "" for record in records], type=pa.large_string()
        )
        for i, name in enumerate(names)
    }
    table = Table(pa.table(columns), str(path), hints, path=path, layout=layout)
    table._lines = scan.lines
    return table


def _exact_jsonl(path: Path, layout: TextLayout, hints: TableHints) -> Table:
    """Build the table from Python's json reading: one Arrow column per key, of one type when
    the values agree, else JSON-encoded (read back by :meth:`Table.python_values`)."""
    import pyarrow as pa

    from harness.tabular.scan import json_records

    records = json_records(path, layout, hints)
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    columns = {}
    mixed: set[str] = set()
    for key in keys:
        values = [record.get(key) for record in records]
        try:
            columns[key] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            columns[key] = pa.array([_json_text(v) for v in values], type=pa.large_string())
            mixed.add(key)
    table = Table(pa.table(columns), str(path), hints, path=path, layout=layout)
    table.json_columns = frozenset(mixed)
    table._records = records
    return table


def _json_text(value: Any) -> str | None:
    import json

    return None if value is None else json.dumps(value)
