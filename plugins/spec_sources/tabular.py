"""Specs from tables (CSV, TSV, JSONL, Hugging Face datasets): one row per case, a column mapping
to spec id, text and label, and a split into D_i / D_i_heldout from a split column, a separate
held-out file, or a seeded split of each spec's template ids (or rows) so that no template is in
both. Shared by the ``csv``, ``hatecheck`` and ``hf`` sources."""

from __future__ import annotations

import difflib
import hashlib
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import click
from pydantic import Field, field_validator

from harness.api import LocalPath, Spec, SpecCase, SpecSuite, StrictModel
from harness.errors import UserError
from harness.tabular import TableHints, read_table
from harness.tabular.values import cell_text
from harness.validation import validate
from harness.yamlio import load_yaml

PER_FILE_OPTIONS = (
    "format",
    "encoding",
    "delimiter",
    "spec_column",
    "spec",
    "text_column",
    "label_column",
    "label",
    "label_map",
    "id_column",
    "template_column",
    "description_column",
    "group_column",
    "tags_column",
    "slot_columns",
)
"""Options that describe how to read one file: the ``heldout`` block may set them again for the
held-out file."""


def _cells_as_keys(value: Any) -> Any:
    """YAML reads ``{0: a, 1: b}`` with integer keys; cells are strings."""
    if isinstance(value, dict):
        return {cell_text(k): v for k, v in value.items()}
    return value


class HeldoutOptions(StrictModel):
    """The held-out file of a table suite and how to read it where it differs from the main
    file (``heldout: {file: test.csv, text_column: sentence}``); options left out are the main
    file's."""

    file: LocalPath | None = Field(default=None, description="file of D_i_heldout rows")
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet", "arrow"] | None = None
    encoding: str | None = None
    delimiter: str | None = None
    spec_column: str | None = None
    spec: str | None = None
    text_column: str | None = None
    label_column: str | None = None
    label: str | None = None
    label_map: dict[str, str] | None = None
    id_column: str | None = None
    template_column: str | None = None
    description_column: str | None = None
    group_column: str | None = None
    tags_column: str | None = None
    slot_columns: list[str] | None = None

    _label_map_as_strings = field_validator("label_map", mode="before")(
        lambda value: _cells_as_keys(value)
    )


class TableOptions(StrictModel):
    """Column mapping and split of a spec table (the ``options`` of a ``csv``/``hf`` entry)."""

    suite: str | None = Field(default=None, description="suite name (default: file stem)")
    description: str = ""
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet", "arrow"] = "auto"
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
    heldout_file: LocalPath | None = Field(default=None, description="file of D_i_heldout rows")
    heldout: HeldoutOptions | None = Field(
        default=None, description="the held-out file's own options (file, columns, format)"
    )
    template_column: str | None = None
    heldout_fraction: float = Field(default=0.5, gt=0, lt=1)
    seed: int | None = Field(default=None, description="split seed (default: the run's seed)")
    id_column: str | None = None
    description_column: str | None = None
    descriptions: LocalPath | dict[str, str] | None = Field(
        default=None, description="spec id -> description: a mapping or a YAML/JSON/CSV file"
    )
    description_id_column: str | None = Field(
        default=None, description="descriptions CSV/TSV: the column of spec ids"
    )
    description_text_column: str | None = Field(
        default=None, description="descriptions CSV/TSV: the column of descriptions"
    )
    group_column: str | None = None
    tags_column: str | None = None
    slot_columns: list[str] = Field(default_factory=list)

    _label_map_as_strings = field_validator("label_map", mode="before")(
        lambda value: _cells_as_keys(value)
    )

    def heldout_path(self) -> str | None:
        """The held-out file: ``heldout_file`` or ``heldout.file``."""
        if self.heldout is not None and self.heldout.file is not None:
            return self.heldout.file
        return self.heldout_file

    def for_heldout(self) -> TableOptions:
        """The options for reading the held-out file: this table's, with the ``heldout``
        block's per-file options over them."""
        if self.heldout is None:
            return self
        return self.model_copy(update=self.heldout_overrides())

    def heldout_overrides(self) -> dict[str, Any]:
        """The per-file options the ``heldout`` block sets (``null`` counts as not set)."""
        if self.heldout is None:
            return {}
        found = {name: getattr(self.heldout, name) for name in PER_FILE_OPTIONS}
        return {name: value for name, value in found.items() if value is not None}

    @field_validator("train_values", "heldout_values", mode="before")
    @classmethod
    def _values_as_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [cell_text(v) for v in value]
        return value


@dataclass
class Row:
    """One table row: its values (as strings), where it came from, its split if known, and the
    options of its file when they differ from the table's (a held-out file's own columns)."""

    values: dict[str, str]
    file: str
    line: int
    split: str | None = None
    opts: TableOptions | None = None


def parse_options(options: dict[str, Any], defaults: dict[str, Any] | None = None) -> TableOptions:
    """Validate ``options`` (over ``defaults``) into :class:`TableOptions` (one-line errors)."""
    return validate(TableOptions, {**(defaults or {}), **options}, prefix="specs.options.")


def resolve_near(path: str, anchor: Path | None) -> Path:
    """``path`` as given if it exists or is absolute, else relative to ``anchor``'s folder."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists() or anchor is None:
        return candidate
    return anchor.parent / candidate


def spec_table_hints(field: str | None = None) -> TableHints:
    """How errors about a spec table name its options."""

    def set_option(name: str, value: str) -> str:
        if name == "encoding":
            return f"convert the file to UTF-8 or pass its encoding (e.g. encoding: {value})"
        return f"set {name}: {value} in the options"

    return TableHints(field=field, option_prefix="options.", set_option=set_option)


def read_rows(path: Path, opts: TableOptions, overrides: set[str] | None = None) -> list[Row]:
    """Read a CSV, TSV, JSON Lines, Parquet or Arrow file into rows (line numbers are 1-based
    physical lines; row numbers for Parquet and Arrow). ``overrides``: for a held-out file, the
    options its ``heldout`` block set (named in errors about missing columns)."""
    table = read_table(
        path,
        spec_table_hints(),
        fmt=opts.format,
        encoding=opts.encoding,
        delimiter=opts.delimiter,
        ragged="pad",
        default_format="csv",
    )
    jsonl = table.layout is not None and table.layout.fmt == "jsonl"
    columns = sorted(table.column_names) if jsonl else table.column_names
    if table.num_rows or not jsonl:
        require_columns(columns, opts, str(path), overrides)
    rows = []
    for values, line in zip(table.string_rows(), table.lines().tolist(), strict=True):
        if not jsonl and not any(value.strip() for value in values.values()):
            continue  # a row of empty fields
        rows.append(Row(values, str(path), int(line)))
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


def missing_column(
    column: str, columns: Sequence[str], file: str, field: str, extra: str = ""
) -> UserError:
    """The one-line error for a named column that ``columns`` lacks: the file, the option, close
    names and every column the file has."""
    close = difflib.get_close_matches(column, list(columns), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return UserError(
        f"column {column!r} not found",
        file=file,
        field=field,
        fix=f"{hint}columns: {', '.join(columns) or '(none)'}{extra}",
    )


def require_columns(
    columns: Sequence[str], opts: TableOptions, file: str, overrides: set[str] | None = None
) -> None:
    """Raise a one-line error naming the first mapped column that ``columns`` lacks.
    ``overrides`` (held-out files only): the options set in the ``heldout`` block."""
    for option, column in wanted_columns(opts):
        if column in columns:
            continue
        if overrides is None:
            raise missing_column(column, columns, file, f"options.{option}")
        if option in overrides:
            raise missing_column(column, columns, file, f"options.heldout.{option}")
        extra = f"; if the held-out file names it differently, set heldout: {{{option}: NAME}}"
        raise missing_column(column, columns, file, f"options.{option}", extra)


@dataclass
class Descriptions:
    """Spec id -> description, and where they came from (named in warnings)."""

    mapping: dict[str, str]
    origin: str


def _description_columns(
    header: list[str], opts: TableOptions, file: Path
) -> tuple[str, str] | None:
    """The (id, description) columns of a descriptions table with a header row, or ``None``
    for a headerless two-column table (no column options and no ``description`` column)."""
    lowered = {name.lower(): name for name in header}
    id_option, text_option = opts.description_id_column, opts.description_text_column
    if not (id_option or text_option or "description" in lowered):
        return None
    id_column = id_option
    if id_column is None:
        known = [c for c in (opts.spec_column, "spec", "id") if c and c in header]
        id_column = known[0] if known else header[0]
    text_column = text_option or lowered.get("description")
    if text_column is None:
        others = [name for name in header if name != id_column]
        if not others:
            raise missing_column(
                "(a description column)", header, str(file), "options.description_text_column"
            )
        text_column = others[0]
    for option, column in (
        ("description_id_column", id_column),
        ("description_text_column", text_column),
    ):
        if column not in header:
            raise missing_column(column, header, str(file), f"options.{option}")
    return id_column, text_column


def read_descriptions(opts: TableOptions, anchor: Path | None) -> Descriptions | None:
    """Spec id -> description from ``opts.descriptions``: a mapping, a YAML/JSON file, or a
    CSV/TSV table. A table with a header row uses ``description_id_column`` (default: the spec
    column's name, ``spec`` or ``id`` when the header has it, else the first column) and
    ``description_text_column`` (default: ``description``, else the next column); a table with
    neither those options nor a ``description`` column is read as two columns, id and text."""
    value = opts.descriptions
    if value is None:
        return None
    if isinstance(value, dict):
        return Descriptions({str(k): str(v) for k, v in value.items()}, "options.descriptions")
    path = resolve_near(value, anchor)
    if path.suffix.lower() in (".csv", ".tsv"):
        table = read_table(path, spec_table_hints("options.descriptions"), header=False)
        records = [
            [cell.strip() for cell in row.values()]
            for row in table.string_rows()
            if any(cell.strip() for cell in row.values())
        ]
        if not records:
            raise UserError(
                "the descriptions file is empty",
                file=path,
                field="options.descriptions",
                fix="write one spec id and its description per row",
            )
        columns = _description_columns(records[0], opts, path)
        if columns is None:
            mapping = {r[0]: r[1] for r in records if len(r) >= 2 and r[1]}
            return Descriptions(mapping, f"{path} (columns 1 and 2, no header)")
        header = records[0]
        id_at, text_at = header.index(columns[0]), header.index(columns[1])
        mapping = {}
        for record in records[1:]:
            if len(record) > max(id_at, text_at) and record[id_at]:
                mapping[record[id_at]] = record[text_at]
        origin = f"{path} (id column {columns[0]!r}, description column {columns[1]!r})"
        return Descriptions(mapping, origin)
    data, _ = load_yaml(path)  # YAML is a superset of JSON
    if not isinstance(data, dict):
        raise UserError(
            "expected a mapping of spec id to description",
            file=path,
            field="options.descriptions",
            fix="write `spec-id: description` lines",
        )
    return Descriptions({str(k): str(v) for k, v in data.items()}, str(path))


def warn_unmatched_descriptions(
    descriptions: Descriptions, specs: list[Spec], base_ids: list[str]
) -> None:
    """One warning line when some specs found no description in ``descriptions``."""
    missing = [
        spec.id
        for spec, base in zip(specs, base_ids, strict=True)
        if spec.id not in descriptions.mapping and base not in descriptions.mapping
    ]
    if not missing or not specs:
        return
    how_many = (
        f"no description matched any of the {len(specs)} specs"
        if len(missing) == len(specs)
        else f"{len(missing)} of {len(specs)} specs got no description"
    )
    file_ids = ", ".join(repr(k) for k in list(descriptions.mapping)[:3]) or "(none)"
    spec_ids = ", ".join(repr(i) for i in missing[:3])
    click.echo(
        f"warning: {descriptions.origin}: {how_many} (spec ids: {spec_ids}; ids in the file: "
        f"{file_ids}); check description_id_column / description_text_column",
        err=True,
    )


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

    def _opts(self, row: Row) -> TableOptions:
        """The options of ``row``'s file (a held-out file may name its columns differently)."""
        return row.opts or self.opts

    def _field(self, row: Row, option: str) -> str:
        """The config field of ``option`` as it applies to ``row``."""
        if row.opts is not None and option in self.opts.heldout_overrides():
            return f"options.heldout.{option}"
        return f"options.{option}"

    def _label(self, row: Row) -> str:
        opts = self._opts(row)
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
                    field=self._field(row, "label_map"),
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
            row_opts = self._opts(row)
            spec_id = row_opts.spec or row.values.get(row_opts.spec_column or "", "").strip()
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
        descriptions = read_descriptions(opts, Path(self.source))
        mapping = descriptions.mapping if descriptions is not None else {}
        specs = [self._spec(spec_id, members, mapping) for spec_id, members in groups.items()]
        if descriptions is not None:
            warn_unmatched_descriptions(descriptions, specs, [self._base_id(s.id) for s in specs])
        suite_labels = opts.labels or sorted({label for label, _ in labels_of.values()})
        return SpecSuite(
            name=opts.suite or self.default_suite,
            description=opts.description,
            labels=suite_labels,
            source=self.source,
            specs=specs,
        )

    def _base_id(self, spec_id: str) -> str:
        """The spec id before ``mixed_labels: split`` added the label."""
        return spec_id.rsplit(":", 1)[0] if self.opts.mixed_labels == "split" else spec_id

    def _spec(
        self, spec_id: str, members: list[tuple[Row, str]], descriptions: dict[str, str]
    ) -> Spec:
        opts = self.opts
        first = members[0][0]
        first_opts = self._opts(first)
        template_of = []
        for r, _ in members:
            column = self._opts(r).template_column
            template_of.append(r.values.get(column, "").strip() if column else "")
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
            row_opts = self._opts(row)
            case_id = row.values.get(row_opts.id_column, "") if row_opts.id_column else ""
            case = SpecCase(
                id=case_id or f"{Path(row.file).name}:{row.line}",
                text=row.values.get(row_opts.text_column, "").strip(),
                spec_id=spec_id,
                split="heldout" if split == "heldout" else "train",
                template_id=template,
                slots={
                    c: row.values.get(c, "") for c in row_opts.slot_columns if row.values.get(c)
                },
            )
            (heldout if split == "heldout" else train).append(case)
        base_id = self._base_id(spec_id)
        description = descriptions.get(spec_id) or descriptions.get(base_id, "")
        if not description and first_opts.description_column:
            description = first.values.get(first_opts.description_column, "")
        tags = []
        if first_opts.tags_column:
            tags = [t.strip() for t in first.values.get(first_opts.tags_column, "").split(",") if t]
        return Spec(
            id=spec_id,
            description=description,
            label=self._label(first),
            tags=tags,
            group=(
                (first.values.get(first_opts.group_column) or None)
                if first_opts.group_column
                else None
            ),
            train_cases=train,
            heldout_cases=heldout,
            source_line=first.line if first.file == self.source else None,
        )


def load_table_files(
    path: Path, opts: TableOptions, seed: int, default_suite: str | None = None
) -> SpecSuite:
    """Read ``path`` (and the held-out file, with its own options) and build the suite."""
    if not path.exists():
        raise UserError("no such spec file", file=path, fix="check the path")
    rows = read_rows(path, opts)
    if opts.heldout_file and opts.heldout is not None and opts.heldout.file:
        raise UserError(
            "give either heldout_file or heldout.file, not both",
            file=path,
            field="specs.options",
            fix="keep one of them",
        )
    heldout_file = opts.heldout_path()
    if opts.heldout is not None and not heldout_file:
        raise UserError(
            "the heldout block names no file",
            file=path,
            field="options.heldout",
            fix="add heldout: {file: PATH} (or heldout_file: PATH), or drop the heldout block",
        )
    if heldout_file:
        field = "options.heldout_file" if opts.heldout_file else "options.heldout.file"
        if opts.split_column:
            raise UserError(
                "give either split_column or a held-out file, not both",
                file=path,
                field="specs.options",
                fix="drop one of them",
            )
        for row in rows:
            row.split = "train"
        heldout_path = resolve_near(heldout_file, path)
        if not heldout_path.exists():
            raise UserError(
                "no such held-out file",
                file=heldout_path,
                field=field,
                fix="check the path (relative paths are tried from the main file's folder)",
            )
        heldout_opts = opts.for_heldout()
        overrides = set(opts.heldout_overrides())
        for row in read_rows(heldout_path, heldout_opts, overrides):
            row.split = "heldout"
            row.opts = heldout_opts if overrides else None
            rows.append(row)
    if not rows:
        raise UserError("the file has no rows", file=path, fix="add cases")
    builder = TableBuilder(opts, str(path), default_suite or path.stem, seed)
    return builder.build(rows)
