"""Specs from tables (CSV, TSV, JSONL, Hugging Face datasets): one row per case, a column mapping
to spec id, text and label, and a split into D_i / D_i_heldout from a split column, a separate
held-out file, or a seeded split of each spec's template ids (or rows) so that no template is in
both. Shared by the ``csv``, ``hatecheck`` and ``hf`` sources."""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from harness.api import Spec, SpecCase, SpecSuite, StrictModel
from harness.errors import UserError
from harness.validation import validate
from harness.yamlio import load_yaml, read_text


class TableOptions(StrictModel):
    """Column mapping and split of a spec table (the ``options`` of a ``csv``/``hf`` entry)."""

    suite: str | None = Field(default=None, description="suite name (default: file stem)")
    description: str = ""
    format: Literal["auto", "csv", "tsv", "jsonl"] = "auto"
    encoding: str = "utf-8"
    delimiter: str | None = Field(default=None, description="CSV delimiter (default by format)")
    spec_column: str | None = Field(default="spec", description="column holding the spec id")
    spec: str | None = Field(default=None, description="one spec id for all rows (no column)")
    text_column: str = "text"
    label_column: str | None = "label"
    label: str | None = Field(default=None, description="one label for all rows (no column)")
    label_map: dict[str, str] = Field(default_factory=dict, description="raw value -> label")
    labels: list[str] = Field(default_factory=list, description="the suite's label set")
    mixed_labels: Literal["error", "split"] = Field(
        default="error", description="a spec with rows of several labels: error, or one spec each"
    )
    split_column: str | None = None
    train_values: list[str] = Field(default_factory=lambda: ["train"])
    heldout_values: list[str] = Field(default_factory=lambda: ["heldout", "test"])
    heldout_file: str | None = Field(default=None, description="file of D_i_heldout rows")
    template_column: str | None = None
    heldout_fraction: float = Field(default=0.5, gt=0, lt=1)
    seed: int | None = Field(default=None, description="split seed (default: the run's seed)")
    id_column: str | None = None
    description_column: str | None = None
    descriptions: str | dict[str, str] | None = Field(
        default=None, description="spec id -> description: a mapping or a YAML/JSON/CSV file"
    )
    group_column: str | None = None
    tags_column: str | None = None
    slot_columns: list[str] = Field(default_factory=list)

    @field_validator("label_map", mode="before")
    @classmethod
    def _label_map_as_strings(cls, value: Any) -> Any:
        """YAML reads ``{0: a, 1: b}`` with integer keys; cells are strings."""
        if isinstance(value, dict):
            return {_cell(k): v for k, v in value.items()}
        return value

    @field_validator("train_values", "heldout_values", mode="before")
    @classmethod
    def _values_as_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_cell(v) for v in value]
        return value


@dataclass
class Row:
    """One table row: its values (as strings), where it came from, and its split if known."""

    values: dict[str, str]
    file: str
    line: int
    split: str | None = None


def parse_options(options: dict[str, Any], defaults: dict[str, Any] | None = None) -> TableOptions:
    """Validate ``options`` (over ``defaults``) into :class:`TableOptions` (one-line errors)."""
    return validate(TableOptions, {**(defaults or {}), **options}, prefix="specs.options.")


def resolve_near(path: str, anchor: Path | None) -> Path:
    """``path`` as given if it exists or is absolute, else relative to ``anchor``'s folder."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists() or anchor is None:
        return candidate
    return anchor.parent / candidate


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_rows(path: Path, opts: TableOptions) -> list[Row]:
    """Read a CSV, TSV or JSONL file into rows (line numbers are 1-based physical lines)."""
    text = read_text(path, opts.encoding)
    fmt: str = opts.format
    if fmt == "auto":
        suffix = path.suffix.lower()
        fmt = {".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffix, "csv")
    rows: list[Row] = []
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(
                    f"invalid JSON: {exc.msg}", file=path, line=number, fix="one object per line"
                ) from None
            if not isinstance(record, dict):
                raise UserError(
                    "expected a JSON object", file=path, line=number, fix="one object per line"
                )
            rows.append(Row({str(k): _cell(v) for k, v in record.items()}, str(path), number))
        return rows
    delimiter = opts.delimiter or ("\t" if fmt == "tsv" else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    try:
        previous = 0
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record or not any(cell.strip() for cell in record):
                continue  # blank line
            if header is None:
                header = [name.strip() for name in record]
                continue
            if len(record) > len(header):
                raise UserError(
                    f"row has {len(record)} fields, the header {len(header)}",
                    file=path,
                    line=start,
                    fix="quote fields that contain the delimiter",
                )
            values = dict(zip(header, record + [""] * (len(header) - len(record)), strict=True))
            rows.append(Row(values, str(path), start))
    except csv.Error as exc:
        raise UserError(
            f"CSV error: {exc}", file=path, line=reader.line_num, fix="fix the file"
        ) from None
    if header is None:
        raise UserError("the file is empty", file=path, fix="add a header row and cases")
    require_columns(header, opts, str(path))
    return rows


def wanted_columns(opts: TableOptions) -> list[tuple[str, str]]:
    """``(option name, column)`` for every column the mapping needs."""
    pairs = [
        ("spec_column", opts.spec_column if not opts.spec else None),
        ("text_column", opts.text_column),
        ("label_column", opts.label_column if not opts.label else None),
        ("split_column", opts.split_column),
        ("template_column", opts.template_column),
        ("id_column", opts.id_column),
        ("description_column", opts.description_column),
        ("group_column", opts.group_column),
        ("tags_column", opts.tags_column),
    ]
    pairs += [("slot_columns", column) for column in opts.slot_columns]
    return [(name, column) for name, column in pairs if column]


def require_columns(columns: Sequence[str], opts: TableOptions, file: str) -> None:
    """Raise a one-line error naming the first mapped column that ``columns`` lacks."""
    for option, column in wanted_columns(opts):
        if column not in columns:
            close = difflib.get_close_matches(column, list(columns), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise UserError(
                f"column {column!r} not found",
                file=file,
                field=f"options.{option}",
                fix=f"{hint}columns: {', '.join(columns) or '(none)'}",
            )


def load_descriptions(value: str | dict[str, str] | None, anchor: Path | None) -> dict[str, str]:
    """Spec id -> description from a mapping or a YAML/JSON file or a two-column CSV/TSV."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    path = resolve_near(value, anchor)
    if path.suffix.lower() in (".csv", ".tsv"):
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        out: dict[str, str] = {}
        for i, record in enumerate(csv.reader(io.StringIO(read_text(path)), delimiter=delimiter)):
            if len(record) < 2 or (i == 0 and record[1].strip().lower() == "description"):
                continue
            out[record[0].strip()] = record[1].strip()
        return out
    data, _ = load_yaml(path)  # YAML is a superset of JSON
    if not isinstance(data, dict):
        raise UserError(
            "expected a mapping of spec id to description",
            file=path,
            field="options.descriptions",
            fix="write `spec-id: description` lines",
        )
    return {str(k): str(v) for k, v in data.items()}


def _rng(seed: int, *parts: Any) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def split_by_group(
    keys: Sequence[str], fraction: float, seed: int, spec_id: str
) -> tuple[set[str], set[str]]:
    """Split distinct ``keys`` (template ids or row ids) into ``(train, heldout)``, seeded and
    independent of row order: ``round(fraction * n)`` held out, at least one on each side when
    there are two or more keys."""
    distinct = sorted(set(keys))
    _rng(seed, spec_id).shuffle(distinct)
    n = len(distinct)
    if n == 0:
        return set(), set()
    if n == 1:
        return set(), set(distinct)
    held = min(n - 1, max(1, math.floor(fraction * n + 0.5)))
    return set(distinct[held:]), set(distinct[:held])


class TableBuilder:
    """Turns rows into a :class:`SpecSuite` following :class:`TableOptions`."""

    def __init__(self, opts: TableOptions, source: str, default_suite: str, seed: int) -> None:
        self.opts = opts
        self.source = source
        self.default_suite = default_suite
        self.seed = opts.seed if opts.seed is not None else seed

    def _label(self, row: Row) -> str:
        opts = self.opts
        if opts.label:
            return opts.label
        assert opts.label_column
        raw = row.values.get(opts.label_column, "").strip()
        if opts.label_map:
            if raw not in opts.label_map:
                raise UserError(
                    f"label value {raw!r} is not in label_map",
                    file=row.file,
                    line=row.line,
                    field="options.label_map",
                    fix=f"map it (known: {', '.join(sorted(opts.label_map))})",
                )
            return opts.label_map[raw]
        if not raw:
            raise UserError(
                "empty label", file=row.file, line=row.line, fix="give every row a label"
            )
        return raw

    def _split(self, row: Row) -> str | None:
        opts = self.opts
        if row.split is not None or not opts.split_column:
            return row.split
        value = row.values.get(opts.split_column, "").strip()
        if value in opts.train_values:
            return "train"
        if value in opts.heldout_values:
            return "heldout"
        raise UserError(
            f"split value {value!r} is neither a train nor a held-out value",
            file=row.file,
            line=row.line,
            field="options.split_column",
            fix=f"use {', '.join(opts.train_values)} or {', '.join(opts.heldout_values)}, "
            "or set train_values/heldout_values",
        )

    def build(self, rows: Iterable[Row]) -> SpecSuite:
        """Group rows into specs, resolve labels and splits, and return the suite."""
        opts = self.opts
        groups: dict[str, list[tuple[Row, str]]] = {}
        labels_of: dict[str, tuple[str, Row]] = {}
        for row in rows:
            spec_id = opts.spec or row.values.get(opts.spec_column or "", "").strip()
            if not spec_id:
                raise UserError(
                    "empty spec id", file=row.file, line=row.line, fix="fill the spec column"
                )
            label = self._label(row)
            if opts.mixed_labels == "split":
                spec_id = f"{spec_id}:{label}"
            elif spec_id in labels_of and labels_of[spec_id][0] != label:
                first_label, first_row = labels_of[spec_id]
                raise UserError(
                    f"rows of one spec have labels {first_label!r} (line {first_row.line}) and "
                    f"{label!r}",
                    file=row.file,
                    line=row.line,
                    field=spec_id,
                    fix="a spec has one expected label; set mixed_labels: split for one spec "
                    "per label",
                )
            labels_of.setdefault(spec_id, (label, row))
            groups.setdefault(spec_id, []).append((row, self._split(row) or ""))
        descriptions = load_descriptions(opts.descriptions, Path(self.source))
        specs = [self._spec(spec_id, members, descriptions) for spec_id, members in groups.items()]
        suite_labels = opts.labels or sorted({label for label, _ in labels_of.values()})
        return SpecSuite(
            name=opts.suite or self.default_suite,
            description=opts.description,
            labels=suite_labels,
            source=self.source,
            specs=specs,
        )

    def _spec(
        self, spec_id: str, members: list[tuple[Row, str]], descriptions: dict[str, str]
    ) -> Spec:
        opts = self.opts
        first = members[0][0]
        template_of = [
            r.values.get(opts.template_column, "").strip() if opts.template_column else ""
            for r, _ in members
        ]
        unsplit = [i for i, (_, split) in enumerate(members) if not split]
        heldout_keys: set[str] = set()
        if unsplit:
            keys = [template_of[i] or f"row:{members[i][0].line}" for i in unsplit]
            _, heldout_keys = split_by_group(keys, opts.heldout_fraction, self.seed, spec_id)
        train: list[SpecCase] = []
        heldout: list[SpecCase] = []
        for i, (row, split) in enumerate(members):
            template = template_of[i] or None
            if not split:
                key = template_of[i] or f"row:{row.line}"
                split = "heldout" if key in heldout_keys else "train"
            case_id = row.values.get(opts.id_column, "") if opts.id_column else ""
            case = SpecCase(
                id=case_id or f"{Path(row.file).name}:{row.line}",
                text=row.values.get(opts.text_column, "").strip(),
                spec_id=spec_id,
                split="heldout" if split == "heldout" else "train",
                template_id=template,
                slots={c: row.values.get(c, "") for c in opts.slot_columns if row.values.get(c)},
            )
            (heldout if split == "heldout" else train).append(case)
        base_id = spec_id.rsplit(":", 1)[0] if opts.mixed_labels == "split" else spec_id
        description = descriptions.get(spec_id) or descriptions.get(base_id, "")
        if not description and opts.description_column:
            description = first.values.get(opts.description_column, "")
        tags = []
        if opts.tags_column:
            tags = [t.strip() for t in first.values.get(opts.tags_column, "").split(",") if t]
        return Spec(
            id=spec_id,
            description=description,
            label=self._label(first),
            tags=tags,
            group=(first.values.get(opts.group_column) or None) if opts.group_column else None,
            train_cases=train,
            heldout_cases=heldout,
            source_line=first.line if first.file == self.source else None,
        )


def load_table_files(
    path: Path, opts: TableOptions, seed: int, default_suite: str | None = None
) -> SpecSuite:
    """Read ``path`` (and ``opts.heldout_file``) and build the suite."""
    if not path.exists():
        raise UserError("no such spec file", file=path, fix="check the path")
    rows = read_rows(path, opts)
    if opts.heldout_file:
        if opts.split_column:
            raise UserError(
                "give either split_column or heldout_file, not both",
                file=path,
                field="specs.options",
                fix="drop one of them",
            )
        for row in rows:
            row.split = "train"
        heldout_path = resolve_near(opts.heldout_file, path)
        if not heldout_path.exists():
            raise UserError(
                "no such held-out file",
                file=heldout_path,
                field="options.heldout_file",
                fix="check the path (relative paths are tried from the main file's folder)",
            )
        for row in read_rows(heldout_path, opts):
            row.split = "heldout"
            rows.append(row)
    if not rows:
        raise UserError("the file has no rows", file=path, fix="add cases")
    builder = TableBuilder(opts, str(path), default_suite or path.stem, seed)
    return builder.build(rows)
